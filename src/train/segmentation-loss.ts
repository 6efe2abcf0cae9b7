// The segmentation losses one can train with: focal Tversky (α 0.7, γ 0.75, as the reference notebooks),
// soft Dice, or BCE + soft Dice. All take logits and 0/1 masks [N,1,H,W].
import { F, focalTverskyLoss, softDiceLoss, type Tensor } from '../engine/index.ts';

export type SegmentationLossName = 'focal-tversky' | 'dice' | 'bce-dice';
export const SEGMENTATION_LOSSES: readonly SegmentationLossName[] = ['focal-tversky', 'dice', 'bce-dice'];

export function segmentationLoss(name: SegmentationLossName, logits: Tensor, masks: Tensor): Tensor {
  switch (name) {
    case 'focal-tversky':
      return focalTverskyLoss(F.sigmoid(logits), masks, 0.7, 0.75);
    case 'dice':
      return softDiceLoss(F.sigmoid(logits), masks);
    case 'bce-dice':
      return F.bceWithLogits(logits, masks).add(softDiceLoss(F.sigmoid(logits), masks));
  }
}
