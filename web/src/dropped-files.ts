// The files in a drop, folders included: a dropped patient folder arrives as one directory entry, which is
// walked here (DataTransferItem.webkitGetAsEntry; every current browser has it under that name). Each file keeps
// its path under the drop, as a folder chosen with webkitdirectory does: a DICOM series is told by its folder.
import type { PathedFile } from './api.ts';

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** All entries of a directory: readEntries answers in batches (about 100 in Chromium) until an empty one. */
async function childrenOf(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const children: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return children;
    children.push(...batch);
  }
}

async function filesUnder(entry: FileSystemEntry): Promise<PathedFile[]> {
  // fullPath is '/P01/flair/IM0001' under the drop's root.
  if (entry.isFile)
    return [{ file: await fileOf(entry as FileSystemFileEntry), path: entry.fullPath.replace(/^\//, '') }];
  if (!entry.isDirectory) return [];
  const nested = await Promise.all((await childrenOf(entry as FileSystemDirectoryEntry)).map(filesUnder));
  return nested.flat();
}

/** A file chosen without folders, or through an input (`webkitRelativePath` is set for a chosen folder). */
export function pathedFile(file: File): PathedFile {
  return { file, path: file.webkitRelativePath || file.name };
}

export async function filesOfDrop(data: DataTransfer): Promise<PathedFile[]> {
  // Entries must be taken synchronously, before the first await: the DataTransfer empties after the event.
  const entries = [...data.items]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry())
    .filter((entry): entry is FileSystemEntry => entry !== null);
  if (entries.length === 0) return [...data.files].map(pathedFile);
  return (await Promise.all(entries.map(filesUnder))).flat();
}
