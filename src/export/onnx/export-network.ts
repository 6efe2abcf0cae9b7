// One of tumorscope's networks as a complete ONNX model: input `image` [batch, C, H, W] (float32, already
// preprocessed as the metadata's `preprocess` says), output `probabilities` [batch, classes] (softmax) for the
// classifier or `tumour_probability` [batch, 1, H, W] (sigmoid) for segmenters. The batch dimension is dynamic.
import type { Module } from '../../engine/index.ts';
import { DenseNet } from '../../models/densenet.ts';
import { ResUNet } from '../../models/resunet.ts';
import { UNet } from '../../models/unet.ts';
import { emitDenseNet } from './export-densenet.ts';
import { emitResUNet } from './export-resunet.ts';
import { emitUNet } from './export-unet.ts';
import { GraphBuilder } from './graph-builder.ts';
import { encodeModel, type ValueInfoSpec } from './onnx-model.ts';
import { concatEncoded } from './protobuf.ts';

/** Opset 17 (ONNX 1.12, IR version 8): supported by every onnxruntime since 1.12, web included. */
export const OPSET = 17;
const IR_VERSION = 8;

export const INPUT_NAME = 'image';
export const CLASSIFIER_OUTPUT = 'probabilities';
export const SEGMENTER_OUTPUT = 'tumour_probability';

export interface NetworkExport {
  network: Module;
  /** Model input size (the preprocessing's width and height). */
  height: number;
  width: number;
  /** metadata_props, already strings. */
  metadata: Readonly<Record<string, string>>;
  producerVersion: string;
  docString?: string;
}

/** The architecture tumorscope calls it (as in a model's config). */
export function architectureOf(network: Module): 'densenet121' | 'resunet' | 'unet' {
  if (network instanceof DenseNet) return 'densenet121';
  if (network instanceof ResUNet) return 'resunet';
  if (network instanceof UNet) return 'unet';
  throw new Error(`ONNX export: no exporter for ${network.constructor.name}`);
}

/** Input channels: the classifier's three sequences; a segmenter's three per stacked slice (2.5-D). */
function inChannelsOf(network: Module): number {
  return network instanceof ResUNet || network instanceof UNet ? network.config.inChannels : 3;
}

/** The ONNX file's bytes. The network's weights are read as they are now (eval-mode semantics). */
export function exportNetworkToOnnx(o: NetworkExport): Uint8Array {
  const g = new GraphBuilder();
  const input = g.input(INPUT_NAME);
  const net = o.network;
  const batch = 'batch';
  let output: ValueInfoSpec;
  if (net instanceof DenseNet) {
    const logits = emitDenseNet(g, input, net);
    g.op('Softmax', [logits], 'softmax', [{ name: 'axis', kind: 'int', value: 1 }], CLASSIFIER_OUTPUT);
    output = { name: CLASSIFIER_OUTPUT, shape: [batch, net.config.numClasses] };
  } else {
    let logits: string;
    let channels: number;
    if (net instanceof ResUNet) {
      logits = emitResUNet(g, input, net);
      channels = net.config.outChannels;
    } else if (net instanceof UNet) {
      logits = emitUNet(g, input, net);
      channels = net.config.outChannels;
    } else throw new Error(`ONNX export: no exporter for ${net.constructor.name}`);
    g.op('Sigmoid', [logits], 'sigmoid', [], SEGMENTER_OUTPUT);
    output = { name: SEGMENTER_OUTPUT, shape: [batch, channels, o.height, o.width] };
  }
  const graph = g.build(
    architectureOf(net),
    [
      {
        name: INPUT_NAME,
        shape: [batch, inChannelsOf(net), o.height, o.width],
        docString: 'preprocessed slices, NCHW',
      },
    ],
    [output],
  );
  const model = encodeModel({
    irVersion: IR_VERSION,
    opsetVersion: OPSET,
    producerName: 'tumorscope',
    producerVersion: o.producerVersion,
    ...(o.docString === undefined ? {} : { docString: o.docString }),
    graph,
    metadata: o.metadata,
  });
  return concatEncoded(model);
}
