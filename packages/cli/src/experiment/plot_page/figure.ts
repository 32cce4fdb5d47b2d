// What the figure page shows besides the charts, and how it looks.

/** Where and when the result was measured. */
export interface FigureMeta {
  adapter: string;
  date: string;
}

export const FIGURE_CSS = `
  body { margin: 0; background: #fff; font: 14px system-ui, sans-serif; color: #1d2330; }
  #figure { display: inline-block; padding: 16px 20px; max-width: 1180px; }
  .title { font-size: 18px; margin: 0 0 4px; }
  .claim { margin: 0 0 12px; color: #3c4250; }
  .charts { display: grid; grid-template-columns: repeat(2, 570px); gap: 8px 16px; }
  .verdict { margin: 12px 0 4px; max-width: 1150px; }
  .meta { margin: 0; color: #6b7280; font-size: 12px; }
`;
