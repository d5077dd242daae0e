/** Source text of the Python snapshot codec, a module of every Python isolate (loaded as a Text module). */
declare const pythonSnapshotSource: string;
export default pythonSnapshotSource;
