// The probability strip: every slice of the volume as a bar of its P(tumour), the threshold as a dashed line
// and the current slice as a marker. Clicking or dragging on it picks a slice; it is also a keyboard slider.
import { barsOf, centreOfSlice, type StripLayout, sliceAtX, yOfProbability } from './strip-geometry.ts';

const COLOURS = {
  background: '#14181f',
  below: '#5b6678',
  above: '#ff6a3d',
  threshold: '#f5d76e',
  current: '#ffffff',
};

export class StripView {
  private probabilities: number[] = [];
  private threshold = 0.5;
  private current = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onPick: (index: number) => void,
  ) {
    const pick = (event: PointerEvent) => {
      if (this.probabilities.length === 0) return;
      const box = canvas.getBoundingClientRect();
      const layout = { width: box.width, height: box.height, padding: 0 };
      this.onPick(sliceAtX(layout, event.clientX - box.left, this.probabilities.length));
    };
    canvas.addEventListener('pointerdown', (event) => {
      canvas.setPointerCapture(event.pointerId);
      pick(event);
    });
    canvas.addEventListener('pointermove', (event) => {
      if (canvas.hasPointerCapture(event.pointerId)) pick(event);
    });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  setData(probabilities: number[], threshold: number): void {
    this.probabilities = probabilities;
    this.threshold = threshold;
    this.canvas.setAttribute('aria-valuemax', String(Math.max(0, probabilities.length - 1)));
    this.draw();
  }

  setCurrent(index: number, label: string): void {
    this.current = index;
    this.canvas.setAttribute('aria-valuenow', String(index));
    this.canvas.setAttribute('aria-valuetext', label);
    this.draw();
  }

  private draw(): void {
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const context = canvas.getContext('2d')!;
    context.fillStyle = COLOURS.background;
    context.fillRect(0, 0, width, height);
    const count = this.probabilities.length;
    if (count === 0) return;
    const layout: StripLayout = { width, height, padding: Math.round(6 * ratio) };
    for (const bar of barsOf(layout, this.probabilities, this.threshold)) {
      context.fillStyle = bar.aboveThreshold ? COLOURS.above : COLOURS.below;
      context.fillRect(bar.x, bar.y, bar.width, bar.height);
    }
    const thresholdY = Math.round(yOfProbability(layout, this.threshold)) + 0.5;
    context.strokeStyle = COLOURS.threshold;
    context.lineWidth = ratio;
    context.setLineDash([4 * ratio, 3 * ratio]);
    context.beginPath();
    context.moveTo(0, thresholdY);
    context.lineTo(width, thresholdY);
    context.stroke();
    context.setLineDash([]);
    const x = centreOfSlice(layout, this.current, count);
    context.fillStyle = COLOURS.current;
    context.fillRect(Math.round(x - ratio), 0, Math.max(2, Math.round(2 * ratio)), height);
    // A small triangle on top keeps the marker visible even over a bright bar.
    const size = 5 * ratio;
    context.beginPath();
    context.moveTo(x - size, 0);
    context.lineTo(x + size, 0);
    context.lineTo(x, size);
    context.fill();
  }
}
