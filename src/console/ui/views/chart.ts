// One uPlot time-series chart; redrawn when its data changes.
import "uplot/dist/uPlot.min.css";
import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  unit?: string;
  /** Dots on each value: for sparse series, where a lone minute draws no line. */
  points?: boolean;
}

export function TimeChart({ title, minutes, series, testid }: { title: string; minutes: number[]; series: ChartSeries[]; testid: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth || 360),
        height: 180,
        legend: { show: true },
        scales: { x: { time: true } },
        axes: [{}, { size: 50 }],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false, points: { show: s.points ?? false, size: 5, fill: s.color }, value: (_u: uPlot, v: number | null) => (v === null ? "–" : `${Math.round(v * 10) / 10}${s.unit ?? ""}`) }))],
      },
      [minutes, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    return () => plot.destroy();
  }, [minutes, series]);
  return html`<figure class="chart" data-testid=${testid}><figcaption>${title}</figcaption><div ref=${box}></div></figure>`;
}
