/** Source text of the isolate's main module (loaded as a Text module). */
declare const runnerSource: string;
export default runnerSource;
