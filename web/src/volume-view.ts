// The patient's volume in NiiVue (WebGL2): axial, coronal and sagittal planes and a 3-D render in one canvas,
// the predicted mask over them. NiiVue is large (see web/README.md), so it loads on first use. Planes follow
// the page's current slice and report the slice the user moves to in them; everything else (the strip,
// keys, details) stays with the page.
import type { Niivue, NVImage } from '@niivue/niivue';
import { type OverlayMode, TUMOUR_RGB } from './mask-overlay.ts';
import { type AxialAxis, axialOutline, fractionOfSlice, sliceOfFraction } from './volume-layout.ts';

/** A NIfTI volume as the page has it: a file the user sent, bytes (a data URI's), or voxels built in the page. */
export type VolumeSource =
  | { kind: 'file'; file: File }
  | { kind: 'nifti'; name: string; bytes: Uint8Array }
  | { kind: 'voxels'; name: string; dims: number[]; affine: number[]; data: Uint8Array };

export interface VolumeScene {
  /** What can be shown under the mask, one entry per sequence; `frame` picks a channel of a 4-D source. */
  sequences: { label: string; source: VolumeSource; frame: number }[];
  /** Index into `sequences` shown first. */
  initialSequence: number;
  /** 0/1 voxels on the grid of the sequences. */
  mask: VolumeSource;
  axial: AxialAxis;
}

const MASK_COLORMAP = 'tumorscope-mask';

type NiivueModule = typeof import('@niivue/niivue');

/** NiiVue's SLICE_TYPE by number: what a tile of the canvas shows. */
const PLANES = ['axial', 'coronal', 'sagittal', 'multiplanar', 'render'];

interface Loaded {
  scene: VolumeScene;
  backgrounds: NVImage[];
  mask: NVImage;
  /** The mask's voxels as sent (fill), kept to switch between fill and outline. */
  fill: Uint8Array;
  /** Native voxel dims of the mask. */
  dims: [number, number, number];
}

export class VolumeView {
  /** NiiVue's classes, once loaded. */
  private module: NiivueModule | undefined;
  private viewer: Promise<Niivue> | undefined;
  private loaded: Loaded | undefined;
  /** Increases with every scene; a scene that finishes loading late is dropped. */
  private generation = 0;
  private opacity = 0.5;
  private mode: OverlayMode = 'fill';
  private sequence = 0;
  /** The slice the planes show, and the one the page asked for last (which a loading scene opens at). */
  private slice = 0;
  private wanted = 0;

  /** `onSlice` gets the slice (voxel index along the axial axis) the user moved to inside the planes. */
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onSlice: (slice: number) => void,
  ) {}

  private niivue(): Promise<Niivue> {
    this.viewer ??= this.start();
    this.viewer.catch(() => {
      this.viewer = undefined;
    });
    return this.viewer;
  }

  private async start(): Promise<Niivue> {
    this.module ??= await import('@niivue/niivue');
    const { Niivue, SLICE_TYPE, SHOW_RENDER, MULTIPLANAR_TYPE } = this.module;
    const nv = new Niivue({
      sliceType: SLICE_TYPE.MULTIPLANAR,
      multiplanarShowRender: SHOW_RENDER.ALWAYS,
      multiplanarLayout: MULTIPLANAR_TYPE.GRID,
      // As the slice view and the dataset: the patient's right on the screen's left.
      isRadiologicalConvention: true,
      // Mask voxels stay square blocks, as in the slice view.
      isNearestInterpolation: true,
      // A background no MRI voxel has (black is the MRI's own) and a crosshair far from the tumour colour.
      backColor: [0.08, 0.1, 0.16, 1],
      crosshairColor: [0.2, 0.8, 1, 1],
      // A thin crosshair (0.6 % of the field of view, about a pixel and a half) that hides little of the mask,
      // landing on voxel centres.
      crosshairWidth: 0.6,
      crosshairWidthUnit: 'percent',
      isForceMouseClickToVoxelCenters: true,
      // Drops go to the page, which sends them to the models; NiiVue would only show them.
      dragAndDropEnabled: false,
      isColorbar: false,
      logLevel: 'warn',
    });
    await nv.attachToCanvas(this.canvas);
    nv.addColormap(MASK_COLORMAP, {
      R: [TUMOUR_RGB[0], TUMOUR_RGB[0]],
      G: [TUMOUR_RGB[1], TUMOUR_RGB[1]],
      B: [TUMOUR_RGB[2], TUMOUR_RGB[2]],
      // Voxel 0 transparent, anything above it the full colour (NiiVue makes overlay alpha 0 or 1).
      A: [0, 255],
      I: [0, 255],
    });
    nv.onLocationChange = (location) => {
      const fraction = (location as { frac?: ArrayLike<number> }).frac?.[2];
      if (!this.loaded || fraction === undefined) return;
      const slice = sliceOfFraction(fraction, this.loaded.scene.axial);
      if (slice === this.slice) return;
      this.slice = slice;
      this.canvas.dataset.slice = String(slice);
      this.onSlice(slice);
    };
    return nv;
  }

  private async image(source: VolumeSource, colormap: string): Promise<NVImage> {
    const { NVImage } = this.module!;
    switch (source.kind) {
      case 'file':
        return NVImage.loadFromFile({ file: source.file, name: source.file.name, colormap });
      case 'nifti':
        return NVImage.loadFromUrl({ url: source.bytes, name: source.name, colormap });
      case 'voxels': {
        const pixDims = source.dims.map(() => 1);
        const bytes = NVImage.createNiftiArray(source.dims, pixDims, source.affine, undefined, source.data);
        return NVImage.loadFromUrl({ url: bytes, name: source.name, colormap });
      }
    }
  }

  /**
   * Shows a patient's volume with its mask at `slice`. Rejects when WebGL2 or the volume fails (the page then
   * keeps its slice view); a scene replaced before it loaded resolves to false without showing anything.
   */
  async show(scene: VolumeScene, slice: number): Promise<boolean> {
    const generation = ++this.generation;
    this.wanted = slice;
    delete this.canvas.dataset.ready;
    const nv = await this.niivue();
    const sources = [...new Set(scene.sequences.map((s) => s.source))];
    const images = await Promise.all(sources.map((source) => this.image(source, 'gray')));
    const mask = await this.image(scene.mask, MASK_COLORMAP);
    if (generation !== this.generation) return false;
    mask.cal_min = 0;
    mask.cal_max = 1;
    const [nx, ny, nz] = [1, 2, 3].map((d) => mask.hdr?.dims[d] ?? 1) as [number, number, number];
    this.loaded = {
      scene,
      backgrounds: scene.sequences.map((s) => images[sources.indexOf(s.source)]!),
      mask,
      fill: Uint8Array.from(mask.img as ArrayLike<number>),
      dims: [nx, ny, nz],
    };
    this.sequence = scene.initialSequence;
    for (const volume of [...nv.volumes]) nv.removeVolume(volume);
    nv.addVolume(this.loaded.backgrounds[this.sequence]!);
    nv.addVolume(mask);
    // The crosshair first: a frame change reports the location, which must already be the page's slice.
    this.moveTo(nv, this.wanted);
    this.applySequence(nv);
    this.applyMask(nv);
    this.canvas.dataset.ready = 'true';
    return true;
  }

  /** Moves the planes to slice `slice` (voxel index along the axial axis). */
  setSlice(slice: number): void {
    this.wanted = slice;
    if (!this.loaded || slice === this.slice) return;
    void this.niivue().then((nv) => this.moveTo(nv, slice));
  }

  setOpacity(opacity: number): void {
    this.opacity = opacity;
    if (this.loaded) void this.niivue().then((nv) => this.applyMask(nv));
  }

  setMode(mode: OverlayMode): void {
    this.mode = mode;
    if (this.loaded) void this.niivue().then((nv) => this.applyMask(nv));
  }

  setSequence(index: number): void {
    this.sequence = index;
    if (this.loaded) void this.niivue().then((nv) => this.applySequence(nv));
  }

  /** Draws, and notes on the canvas where each plane landed (canvas pixels), for tests and inspection. */
  private draw(nv: Niivue): void {
    nv.drawScene();
    const tiles = nv.screenSlices.map(({ axCorSag, leftTopWidthHeight }) => ({
      plane: PLANES[axCorSag] ?? String(axCorSag),
      box: leftTopWidthHeight.map((v) => Math.round(v)),
    }));
    this.canvas.dataset.tiles = JSON.stringify(tiles);
  }

  private moveTo(nv: Niivue, slice: number): void {
    const { axial } = this.loaded!.scene;
    // Only the Inferior–Superior coordinate: the crosshair stays where the user put it within the plane.
    nv.scene.crosshairPos[2] = fractionOfSlice(slice, axial);
    this.slice = slice;
    this.canvas.dataset.slice = String(slice);
    this.draw(nv);
  }

  private applySequence(nv: Niivue): void {
    const loaded = this.loaded!;
    const entry = loaded.scene.sequences[this.sequence];
    const background = loaded.backgrounds[this.sequence];
    if (!entry || !background) return;
    if (nv.volumes[0] !== background) {
      for (const volume of [...nv.volumes]) nv.removeVolume(volume);
      nv.addVolume(background);
      nv.addVolume(loaded.mask);
      this.applyMask(nv);
    }
    nv.setFrame4D(background.id, entry.frame);
    this.canvas.dataset.sequence = entry.label;
    this.draw(nv);
  }

  private applyMask(nv: Niivue): void {
    const { mask, fill, dims, scene } = this.loaded!;
    const shown = this.mode === 'outline' ? axialOutline(fill, dims, scene.axial.axis) : fill;
    (mask.img as Uint8Array).set(shown);
    const index = nv.volumes.indexOf(mask);
    if (index < 0) return;
    nv.setOpacity(index, this.mode === 'off' ? 0 : this.opacity);
    this.canvas.dataset.mode = this.mode;
    this.canvas.dataset.opacity = String(this.mode === 'off' ? 0 : this.opacity);
    this.draw(nv);
  }
}
