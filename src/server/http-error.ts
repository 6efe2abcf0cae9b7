// An error that maps to one HTTP status; its message names the file and the problem, and becomes the JSON body
// `{ error }`. It crosses from the inference worker as { status, message }.

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: 400 | 413 | 415 | 500 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** The 503 of a request the server could not finish (or start) because it is stopping. */
export const SHUTTING_DOWN = 'the server is shutting down; try again when it is back';
