// The files in a drop, folders included: a dropped patient folder arrives as one directory entry, which is
// walked here (DataTransferItem.webkitGetAsEntry; every current browser has it under that name).

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

async function filesUnder(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) return [await fileOf(entry as FileSystemFileEntry)];
  if (!entry.isDirectory) return [];
  const nested = await Promise.all((await childrenOf(entry as FileSystemDirectoryEntry)).map(filesUnder));
  return nested.flat();
}

export async function filesOfDrop(data: DataTransfer): Promise<File[]> {
  // Entries must be taken synchronously, before the first await: the DataTransfer empties after the event.
  const entries = [...data.items]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry())
    .filter((entry): entry is FileSystemEntry => entry !== null);
  if (entries.length === 0) return [...data.files];
  return (await Promise.all(entries.map(filesUnder))).flat();
}
