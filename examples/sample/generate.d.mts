export interface Review {
  text: string;
  label: 'positive' | 'negative';
}
export function generateReviews(n: number, seed: number): Review[];
export function sampleVocab(): string[];
export function writeSample(outDir: string): void;
