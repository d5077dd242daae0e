/** Source text of a Python isolate's main module (loaded as a Text module). */
declare const pythonRunnerSource: string;
export default pythonRunnerSource;
