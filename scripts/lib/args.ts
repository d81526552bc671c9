// The scripts' command-line options: `--name value`, or the default when the flag is absent.
export function option(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}

export function numberOption(name: string, dflt: number): number {
  return Number(option(name, String(dflt)));
}
