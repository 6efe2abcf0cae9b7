// The one error every importer throws: the message starts with the file, so that a user who pointed the tool at
// the wrong download sees which file and what is wrong with it.

export class WeightsFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'WeightsFileError';
  }
}
