// Absolute paths of the machine a run was made on, rewritten for files that are committed (model cards, the
// cross-validation folds' configs, results): under the repository they become relative to it, a dataset folder
// becomes path/to/kaggle_3m, a run folder runs/<name>, anything else path/to/<its last name>. Recorded commands
// then read as commands a reader can run from the repository.

// Not after a word, a URL's scheme or another slash, nor after `<` (an HTML closing tag).
const ABSOLUTE = /(?<![\w.~:/<-])\/(?:[\w.@+-]+\/)*[\w.@+-]+\/?/g;

/** `text` with every absolute path made portable; `root` is the repository's root folder. */
export function portablePaths(text: string, root: string): string {
  const base = root.replace(/\/+$/, '');
  return text.replace(ABSOLUTE, (path) => {
    const slash = path.endsWith('/') ? '/' : '';
    const bare = path.replace(/\/$/, '');
    if (bare === base) return `.${slash}`;
    if (bare.startsWith(`${base}/`)) return path.slice(base.length + 1);
    const parts = bare.split('/').filter((p) => p !== '');
    const data = parts.lastIndexOf('kaggle_3m');
    if (data >= 0) return ['path/to', ...parts.slice(data)].join('/') + slash;
    const runs = parts.findIndex((p) => /(^|-)runs$/.test(p));
    if (runs >= 0 && runs < parts.length - 1) return ['runs', ...parts.slice(runs + 1)].join('/') + slash;
    return `path/to/${parts[parts.length - 1]}${slash}`;
  });
}
