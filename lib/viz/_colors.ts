/** plotly's default colours, set explicitly on traces so the SVG fallback matches the interactive plot. */
export const COLORWAY: readonly string[] = [
  "#636efa",
  "#EF553B",
  "#00cc96",
  "#ab63fa",
  "#FFA15A",
  "#19d3f3",
  "#FF6692",
  "#B6E880",
  "#FF97FF",
  "#FECB52",
];
