/** Source text of the isolate module that installs precompiled functions (loaded as a Text module). */
declare const precompiledEvalSource: string;
export default precompiledEvalSource;
