// The viewer page: open or drop slices, a NIfTI volume or DICOM series, send them to the inference backend, then
// browse the answer slice by slice, in the planes and 3-D view (NiiVue) or the pixel-exact slice view. This file
// only wires state to the views; the logic lives in the small modules it imports.
import { DICOM_HEAD_BYTES, isDicomBytes } from '../../src/volume/dicom-magic.ts';
import { ApiError, httpBackend, type InferenceBackend, type PathedFile, type PredictInput } from './api.ts';
import type { ModelsInfo, PredictResponse, SlicePrediction } from './api-types.ts';
import { showPatientDetails, showSliceDetails } from './details-view.ts';
import { byId, fillDefinitionList, saveBlob } from './dom.ts';
import { filesOfDrop, pathedFile } from './dropped-files.ts';
import { bytesOfDataUrl, maskFileName, masksZip, predictionsJson } from './exports.ts';
import { formatProbability, noticeDetail } from './format.ts';
import type { OverlayMode } from './mask-overlay.ts';
import { cardRows } from './model-card.ts';
import { initialSliceIndex, slicesByPatient, stepIndex } from './slice-order.ts';
import { SliceView } from './slice-view.ts';
import { StripView } from './strip-view.ts';
import { describePlan, mayBeDicom, type NamedFile, planUpload, type UploadPlan } from './upload-plan.ts';
import { sceneOfNifti, sceneOfSlices } from './volume-scenes.ts';
import { VolumeView } from './volume-view.ts';
import { type WheelState, wheelStep } from './wheel-steps.ts';

const backend: InferenceBackend = httpBackend();
/** In-browser inference (onnxruntime-web), loaded only when chosen: it is large. */
let browserBackend: Promise<InferenceBackend> | undefined;

function chosenBackend(): { backend: Promise<InferenceBackend>; where: string } {
  const choice = document.querySelector<HTMLInputElement>('input[name="backend"]:checked')?.value;
  if (choice !== 'browser') return { backend: Promise.resolve(backend), where: 'on the server' };
  browserBackend ??= import('./onnx-backend.ts').then((m) => m.onnxBackend(backend));
  browserBackend.catch(() => {
    browserBackend = undefined;
  });
  return { backend: browserBackend, where: 'in this browser' };
}

const elements = {
  noticeDetail: byId('notice-detail', HTMLSpanElement),
  serverStatus: byId('server-status', HTMLParagraphElement),
  dropZone: byId('drop-zone', HTMLButtonElement),
  fileInput: byId('file-input', HTMLInputElement),
  folderInput: byId('folder-input', HTMLInputElement),
  selection: byId('selection-summary', HTMLParagraphElement),
  upload: byId('upload-button', HTMLButtonElement),
  error: byId('error', HTMLParagraphElement),
  modelInfo: byId('model-info', HTMLDivElement),
  patientSelect: byId('patient-select', HTMLSelectElement),
  slicePosition: byId('slice-position', HTMLOutputElement),
  canvasStack: byId('canvas-stack', HTMLElement),
  placeholder: byId('placeholder', HTMLParagraphElement),
  volumeStack: byId('volume-stack', HTMLElement),
  volumePlaceholder: byId('volume-placeholder', HTMLParagraphElement),
  viewNote: byId('view-note', HTMLParagraphElement),
  sequenceSelect: byId('sequence-select', HTMLSelectElement),
  slider: byId('slice-slider', HTMLInputElement),
  thresholdLabel: byId('threshold-label', HTMLSpanElement),
  sliceDetails: byId('slice-details', HTMLDListElement),
  patientDetails: byId('patient-details', HTMLDListElement),
  opacity: byId('opacity-slider', HTMLInputElement),
  opacityLabel: byId('opacity-label', HTMLOutputElement),
  downloadMasks: byId('download-masks', HTMLButtonElement),
  downloadMask: byId('download-mask', HTMLButtonElement),
  downloadNifti: byId('download-nifti', HTMLButtonElement),
  downloadJson: byId('download-json', HTMLButtonElement),
};

const sliceView = new SliceView(
  byId('image-canvas', HTMLCanvasElement),
  byId('overlay-canvas', HTMLCanvasElement),
);
const stripView = new StripView(byId('strip-canvas', HTMLCanvasElement), (index) => showSlice(index));
const volumeView = new VolumeView(byId('volume-canvas', HTMLCanvasElement), (voxel) => {
  const index = state.voxels.indexOf(voxel);
  if (index >= 0 && index !== state.index) showSlice(index);
});

/** A file the user opened or dropped, as the upload plan sees it. */
type ChosenFile = NamedFile & PathedFile;

const state = {
  plan: null as UploadPlan<ChosenFile> | null,
  /** Counts choices, so that a slower earlier one (its files are read to spot DICOM) does not win. */
  choice: 0,
  models: null as ModelsInfo | null,
  result: null as PredictResponse | null,
  /** What the result was predicted from: the NIfTI files are shown again under the mask. */
  sent: null as PredictInput | null,
  byPatient: new Map<string, SlicePrediction[]>(),
  patient: '',
  index: 0,
  /** For each of the patient's slices (by index), its voxel index along the volume's axial axis. */
  voxels: [] as number[],
  /** The gate's threshold, and what its score is called (P(tumour) when the classifier alone decides). */
  threshold: 0.5,
  scoreName: 'P(tumour)',
  busy: false,
};

/** What the strip and the details call the gate's score. */
function scoreName(gate: PredictResponse['gate']): string {
  return gate.detector === 'classifier' && gate.sliceRadius === 0 ? 'P(tumour)' : 'Gate score';
}

const currentSlices = (): SlicePrediction[] => state.byPatient.get(state.patient) ?? [];

// ---- errors and status -------------------------------------------------------------------------------------

function showError(message: string | null): void {
  elements.error.hidden = message === null;
  elements.error.textContent = message ?? '';
}

function describeError(err: unknown): string {
  if (err instanceof ApiError)
    return err.status > 0 ? `Server error ${err.status}: ${err.message}` : err.message;
  return err instanceof Error ? err.message : String(err);
}

async function refreshHealth(): Promise<void> {
  try {
    const { status, queue } = await backend.health();
    elements.serverStatus.textContent = `Server ${status} · ${queue.running} running, ${queue.waiting} waiting`;
    elements.serverStatus.classList.remove('bad');
  } catch (err) {
    elements.serverStatus.textContent = `Server unavailable: ${describeError(err)}`;
    elements.serverStatus.classList.add('bad');
  }
}

async function loadModels(): Promise<void> {
  try {
    state.models = await backend.models();
    const blocks = (['classifier', 'segmenter'] as const).map((role) => {
      const model = state.models![role];
      const heading = document.createElement('h3');
      heading.textContent = role === 'classifier' ? 'Detector (slice classifier)' : 'Segmenter';
      const list = document.createElement('dl');
      list.className = 'facts';
      fillDefinitionList(list, [
        ['Name', model.name],
        ['Architecture', model.architecture],
        ['Input', `${model.inputSize.width}×${model.inputSize.height} px`],
        ['Threshold', model.threshold.toFixed(2)],
        ...cardRows(model.card),
      ]);
      return [heading, list];
    });
    elements.modelInfo.replaceChildren(...blocks.flat());
    state.threshold = state.models.gate.threshold;
    elements.thresholdLabel.textContent = formatProbability(state.threshold);
  } catch (err) {
    const message = document.createElement('p');
    message.className = 'error';
    message.textContent = `Cannot load the model description: ${describeError(err)}`;
    elements.modelInfo.replaceChildren(message);
  }
}

// ---- choosing files ----------------------------------------------------------------------------------------

/** Reads the first bytes of a file without a telling extension: DICOM files rarely have one. */
async function chosenFile({ file, path }: PathedFile): Promise<ChosenFile> {
  const head = mayBeDicom(file.name) ? await file.slice(0, DICOM_HEAD_BYTES).arrayBuffer() : undefined;
  return { file, path, name: file.name, dicom: head !== undefined && isDicomBytes(new Uint8Array(head)) };
}

async function chooseFiles(files: readonly PathedFile[]): Promise<void> {
  const choice = ++state.choice;
  const chosen = await Promise.all(files.map(chosenFile));
  if (choice !== state.choice) return;
  const plan = planUpload(chosen);
  state.plan = plan;
  showError(plan.kind === 'error' ? plan.message : null);
  elements.selection.textContent = plan.kind === 'error' ? '' : describePlan(plan);
  updateControls();
}

for (const input of [elements.fileInput, elements.folderInput]) {
  input.addEventListener('change', () => {
    chooseFiles([...(input.files ?? [])].map(pathedFile)).catch((err: unknown) =>
      showError(`Cannot read the chosen files: ${err}`),
    );
    // Cleared so that choosing the same files again still fires `change`.
    input.value = '';
  });
}

/** Files dropped on the drop zone or on the image are chosen as if opened. */
function acceptDrops(target: HTMLElement): void {
  target.addEventListener('dragover', (event) => {
    event.preventDefault();
    target.classList.add('active');
  });
  target.addEventListener('dragleave', () => target.classList.remove('active'));
  target.addEventListener('drop', (event) => {
    event.preventDefault();
    target.classList.remove('active');
    if (!event.dataTransfer) return;
    filesOfDrop(event.dataTransfer)
      .then(chooseFiles)
      .catch((err: unknown) => showError(`Cannot read the dropped files: ${err}`));
  });
}
for (const target of [elements.dropZone, elements.volumeStack, elements.canvasStack]) acceptDrops(target);
elements.dropZone.addEventListener('click', () => elements.fileInput.click());
// A drop that misses the zone must not make the browser navigate away to the file.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());

// ---- predicting --------------------------------------------------------------------------------------------

async function predict(): Promise<void> {
  const plan = state.plan;
  if (!plan || plan.kind === 'error' || state.busy) return;
  state.busy = true;
  showError(null);
  const chosen = chosenBackend();
  elements.selection.textContent = `Finding tumours ${chosen.where} (${describePlan(plan).replace(/ chosen.*$/, '')})…`;
  updateControls();
  try {
    const input: PredictInput = {
      files: plan.files.map((f) => f.file),
      sequences: Object.fromEntries(Object.entries(plan.sequences).map(([s, f]) => [s, f.file])),
      series: plan.series,
    };
    const result = await (await chosen.backend).predict(input);
    state.sent = input;
    showResult(result);
    elements.selection.textContent = `Done ${chosen.where}: ${state.result?.slices.length ?? 0} slice(s).`;
  } catch (err) {
    elements.selection.textContent = '';
    showError(describeError(err));
  } finally {
    state.busy = false;
    updateControls();
    void refreshHealth();
  }
}

elements.upload.addEventListener('click', () => void predict());

function showResult(result: PredictResponse): void {
  state.result = result;
  state.byPatient = slicesByPatient(result.slices);
  state.threshold = result.gate.threshold;
  state.scoreName = scoreName(result.gate);
  elements.noticeDetail.textContent = noticeDetail(result.notice);
  elements.thresholdLabel.textContent = formatProbability(state.threshold);
  sliceView.reset();
  elements.patientSelect.replaceChildren(
    ...[...state.byPatient.keys()].map((patient) => {
      const summary = result.patients.find((p) => p.patient === patient);
      const label = summary
        ? `${patient} (${summary.positiveSlices}/${summary.slices} with tumour)`
        : patient;
      return new Option(label, patient);
    }),
  );
  const first = state.byPatient.keys().next();
  selectPatient(first.done ? '' : first.value);
}

function selectPatient(patient: string): void {
  state.patient = patient;
  elements.patientSelect.value = patient;
  const slices = currentSlices();
  elements.slider.max = String(Math.max(0, slices.length - 1));
  stripView.setData(
    slices.map((s) => s.score),
    state.threshold,
  );
  showPatientDetails(
    elements.patientDetails,
    state.result?.patients.find((p) => p.patient === patient),
  );
  const volume = state.result?.volume;
  state.voxels = slices.map((s, i) => (volume ? (s.slice ?? i) : i));
  showSlice(initialSliceIndex(slices));
  showVolume(patient, slices);
}

// ---- the planes and 3-D view -------------------------------------------------------------------------------

function showVolume(patient: string, slices: readonly SlicePrediction[]): void {
  const { result, sent } = state;
  if (!result || slices.length === 0) return;
  elements.volumePlaceholder.hidden = false;
  elements.volumePlaceholder.textContent = 'Loading the volume…';
  const scene =
    result.volume && sent
      ? Promise.resolve(sceneOfNifti(sent, result.volume, patient))
      : sceneOfSlices(slices, patient);
  scene
    .then(async (scene) => {
      if (state.result !== result || state.patient !== patient) return;
      // At the slice the page shows by then: the user may have moved while the volume was built.
      if (!(await volumeView.show(scene, state.voxels[state.index] ?? 0))) return;
      elements.volumePlaceholder.hidden = true;
      elements.sequenceSelect.replaceChildren(
        ...scene.sequences.map((s, i) => new Option(s.label, String(i), false, i === scene.initialSequence)),
      );
      elements.sequenceSelect.disabled = scene.sequences.length < 2;
      elements.viewNote.hidden = result.volume !== undefined;
      elements.viewNote.textContent =
        'Slices carry no voxel size: the volume is stacked from them in slice order with 1 mm voxels.';
    })
    .catch((err: unknown) => {
      if (state.patient !== patient) return;
      elements.volumePlaceholder.textContent = `No planes or 3-D view: ${describeError(err)}`;
      // Without WebGL2 or a volume, the slice view still shows everything.
      chooseView('slice');
    });
}

function chooseView(view: 'planes' | 'slice'): void {
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="view"]'))
    radio.checked = radio.value === view;
  elements.volumeStack.hidden = view !== 'planes';
  elements.canvasStack.hidden = view !== 'slice';
}

for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="view"]')) {
  radio.addEventListener('change', () => {
    if (radio.checked) chooseView(radio.value as 'planes' | 'slice');
  });
}

elements.sequenceSelect.addEventListener('change', () =>
  volumeView.setSequence(Number(elements.sequenceSelect.value)),
);

elements.patientSelect.addEventListener('change', () => selectPatient(elements.patientSelect.value));

function showSlice(index: number): void {
  const slices = currentSlices();
  const slice = slices[index];
  if (!slice) return;
  state.index = index;
  elements.placeholder.hidden = true;
  elements.slider.value = String(index);
  const position = `Slice ${slice.slice ?? index + 1} · ${index + 1} of ${slices.length}`;
  elements.slicePosition.textContent = position;
  elements.slider.setAttribute('aria-valuetext', position);
  stripView.setCurrent(index, `${position}, ${state.scoreName} ${formatProbability(slice.score)}`);
  showSliceDetails(elements.sliceDetails, slice, state.threshold, state.scoreName);
  void sliceView.show(slice);
  volumeView.setSlice(state.voxels[index] ?? index);
  updateControls();
}

// ---- browsing: slider, wheel, keys -------------------------------------------------------------------------

const step = (by: number) => showSlice(stepIndex(state.index, by, currentSlices().length));

elements.slider.addEventListener('input', () => showSlice(Number(elements.slider.value)));

let wheel: WheelState = { pending: 0 };
elements.canvasStack.addEventListener(
  'wheel',
  (event) => {
    if (currentSlices().length === 0) return;
    event.preventDefault();
    const result = wheelStep(wheel, event.deltaY, event.deltaMode);
    wheel = result.state;
    if (result.step !== 0) step(result.step);
  },
  { passive: false },
);

const KEY_STEPS: Record<string, number> = {
  ArrowRight: 1,
  ArrowDown: 1,
  ArrowLeft: -1,
  ArrowUp: -1,
  PageDown: 10,
  PageUp: -10,
};

// Captured before NiiVue's canvas sees the keys (its arrows move the crosshair within a plane): here they step
// through the slices in every view.
document.addEventListener(
  'keydown',
  (event) => {
    const target = event.target;
    // Form controls keep their own keys (the slice slider already moves by itself).
    if (
      target instanceof HTMLInputElement ||
      target instanceof HTMLSelectElement ||
      target instanceof HTMLTextAreaElement
    )
      return;
    if (currentSlices().length === 0 || event.altKey || event.ctrlKey || event.metaKey) return;
    const by = KEY_STEPS[event.key];
    if (by !== undefined) {
      event.preventDefault();
      event.stopPropagation();
      step(by);
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      event.stopPropagation();
      showSlice(event.key === 'Home' ? 0 : currentSlices().length - 1);
    }
  },
  { capture: true },
);

// ---- display -----------------------------------------------------------------------------------------------

function applyOpacity(): void {
  const percent = Number(elements.opacity.value);
  elements.opacityLabel.textContent = `${percent}%`;
  sliceView.setOpacity(percent / 100);
  volumeView.setOpacity(percent / 100);
}
elements.opacity.addEventListener('input', applyOpacity);

for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="overlay-mode"]')) {
  radio.addEventListener('change', () => {
    if (!radio.checked) return;
    sliceView.setMode(radio.value as OverlayMode);
    volumeView.setMode(radio.value as OverlayMode);
  });
}

// ---- downloads ---------------------------------------------------------------------------------------------

elements.downloadMasks.addEventListener('click', () => {
  if (!state.result) return;
  const zip = masksZip(state.result.slices);
  saveBlob('tumorscope-masks.zip', new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
});

elements.downloadMask.addEventListener('click', () => {
  const slice = currentSlices()[state.index];
  if (!slice?.mask) return;
  const png = bytesOfDataUrl(slice.mask);
  saveBlob(maskFileName(slice.name), new Blob([png], { type: 'image/png' }));
});

elements.downloadNifti.addEventListener('click', () => {
  const volume = state.result?.volume;
  if (!volume) return;
  saveBlob(
    `${state.patient}_mask.nii.gz`,
    new Blob([bytesOfDataUrl(volume.mask)], { type: 'application/gzip' }),
  );
});

elements.downloadJson.addEventListener('click', () => {
  if (!state.result) return;
  saveBlob(
    'tumorscope-predictions.json',
    new Blob([predictionsJson(state.result)], { type: 'application/json' }),
  );
});

// ---- controls ----------------------------------------------------------------------------------------------

function updateControls(): void {
  const slices = currentSlices();
  const hasResult = state.result !== null && slices.length > 0;
  elements.upload.disabled = state.busy || !state.plan || state.plan.kind === 'error';
  elements.upload.textContent = state.busy ? 'Working…' : 'Find tumours';
  elements.upload.setAttribute('aria-busy', String(state.busy));
  elements.slider.disabled = !hasResult;
  elements.patientSelect.disabled = state.byPatient.size < 2;
  elements.downloadMasks.disabled = !state.result?.slices.some((s) => s.mask !== null);
  elements.downloadMask.disabled = !slices[state.index]?.mask;
  elements.downloadNifti.disabled = !state.result?.volume;
  elements.downloadJson.disabled = !state.result;
}

applyOpacity();
updateControls();
void refreshHealth();
void loadModels();
