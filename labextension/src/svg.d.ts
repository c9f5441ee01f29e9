// SVG files are bundled as raw strings (webpack asset/source; jest raw loader).
declare module '*.svg' {
  const value: string;
  export default value;
}
