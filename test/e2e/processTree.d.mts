export interface ProcessEntry {
  pid: number;
  argv: string[];
}
export function hasProcFs(): boolean;
export function argvOf(pid: number): string[] | undefined;
export function parentOf(pid: number): number | undefined;
export function ancestry(pid: number): ProcessEntry[];
export function processesWhere(match: (argv: string[]) => boolean): ProcessEntry[];
export function describeChain(chain: readonly ProcessEntry[]): string;
