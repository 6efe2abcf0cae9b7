// The MRI slice with the predicted mask over it: two stacked canvases at the image's own resolution, scaled
// up by CSS with nearest-neighbour sampling, so every mask pixel lands exactly on its image pixel, in the
// slice's own colours (the three sequences as RGB). The planes and 3-D view are volume-view.ts (NiiVue).
import type { SlicePrediction } from './api-types.ts';
import { loadImage, rgbaOfImage } from './dom.ts';
import { maskFromRgba, type OverlayMode, overlayPixels, TUMOUR_RGB } from './mask-overlay.ts';

export class SliceView {
  private readonly images = new Map<string, Promise<HTMLImageElement | null>>();
  private readonly masks = new Map<string, Promise<Uint8Array | null>>();
  /** Increases with every render; an older render that finishes late paints nothing. */
  private generation = 0;
  private mode: OverlayMode = 'fill';
  private current: SlicePrediction | null = null;

  constructor(
    private readonly imageCanvas: HTMLCanvasElement,
    private readonly overlayCanvas: HTMLCanvasElement,
  ) {}

  /** Forgets decoded images and masks (a new prediction replaces them). */
  reset(): void {
    this.images.clear();
    this.masks.clear();
    this.current = null;
    this.generation++;
    for (const canvas of [this.imageCanvas, this.overlayCanvas])
      canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
  }

  setOpacity(opacity: number): void {
    this.overlayCanvas.style.opacity = String(opacity);
  }

  setMode(mode: OverlayMode): void {
    this.mode = mode;
    if (this.current) void this.show(this.current);
  }

  async show(slice: SlicePrediction): Promise<void> {
    this.current = slice;
    const generation = ++this.generation;
    const [image, mask] = await Promise.all([this.imageOf(slice), this.maskOf(slice)]);
    if (generation !== this.generation) return;
    const { width, height } = slice;
    for (const canvas of [this.imageCanvas, this.overlayCanvas]) {
      canvas.width = width;
      canvas.height = height;
    }
    const imageContext = this.imageCanvas.getContext('2d')!;
    if (image) imageContext.drawImage(image, 0, 0, width, height);
    else {
      imageContext.fillStyle = '#222';
      imageContext.fillRect(0, 0, width, height);
    }
    const overlayContext = this.overlayCanvas.getContext('2d')!;
    if (mask) {
      const pixels = overlayPixels(mask, width, height, this.mode, TUMOUR_RGB);
      overlayContext.putImageData(new ImageData(pixels, width, height), 0, 0);
    }
    // What is on screen, for tests and for anyone inspecting the page.
    this.overlayCanvas.dataset.slice = slice.name;
    this.overlayCanvas.dataset.mode = this.mode;
  }

  private imageOf(slice: SlicePrediction): Promise<HTMLImageElement | null> {
    let image = this.images.get(keyOf(slice));
    if (!image) {
      image = slice.image ? loadImage(slice.image).catch(() => null) : Promise.resolve(null);
      this.images.set(keyOf(slice), image);
    }
    return image;
  }

  /** The slice's mask as 0/1 pixels at the image's size; null when it has none. */
  private maskOf(slice: SlicePrediction): Promise<Uint8Array | null> {
    let mask = this.masks.get(keyOf(slice));
    if (!mask) {
      mask = slice.mask ? decodeMask(slice.mask, slice.width, slice.height) : Promise.resolve(null);
      this.masks.set(keyOf(slice), mask);
    }
    return mask;
  }
}

async function decodeMask(dataUrl: string, width: number, height: number): Promise<Uint8Array | null> {
  try {
    return maskFromRgba(await rgbaOfImage(dataUrl, width, height), width, height);
  } catch {
    return null;
  }
}

const keyOf = (slice: SlicePrediction) => `${slice.patient}/${slice.name}`;
