// The metric definitions as the report prints them; docs/METRICS.md says the same at more length.

export const metricDefinitions: readonly { term: string; definition: string }[] = [
  {
    term: 'Slice classification',
    definition:
      'A slice is predicted to hold tumour iff the classifier score >= the threshold; its true label is 1 iff the ground-truth mask has any tumour voxel. Accuracy, precision, recall (sensitivity), specificity and F1 follow from the confusion counts; a ratio with a zero denominator is undefined (shown as n/a, null in JSON).',
  },
  {
    term: 'Threshold',
    definition:
      "Chosen on validation patients, never on the test set: the validation score that maximises Youden's J = recall + specificity - 1; among equal J, the highest such score.",
  },
  {
    term: 'ROC-AUC',
    definition:
      'The trapezoid rule over the ROC points, one point per distinct score (tied scores make one diagonal step). It equals the probability that a random tumour slice scores above a random tumour-free slice, ties counting one half.',
  },
  {
    term: 'Average precision',
    definition:
      'Sum over thresholds of (R_n - R_(n-1)) * P_n, as scikit-learn: a step function, no interpolation.',
  },
  {
    term: 'Classification report',
    definition:
      "Precision, recall, F1 and support for 'no tumour' and 'tumour'; macro average = unweighted mean of the two classes, weighted average = weighted by support (as scikit-learn's classification_report; undefined values are left out of the averages).",
  },
  {
    term: 'Patient-level classification',
    definition:
      'A patient is positive if any of its slices is: truly, if any slice holds tumour; predicted, if any slice scores >= the threshold.',
  },
  {
    term: 'Segmenter alone (slice Dice, IoU)',
    definition:
      'The segmenter without the classifier, on ground-truth tumour slices only: Dice = 2|T∩P| / (|T| + |P|), IoU = |T∩P| / |T∪P| per slice, then the mean over those slices.',
  },
  {
    term: 'End-to-end Dice per patient volume (primary)',
    definition:
      "The final output (segmenter gated by the classifier, after post-processing) on every slice; the voxels of all a patient's slices are pooled into one volume before Dice and IoU are computed, so an empty prediction on an empty slice adds nothing, and is never counted as a Dice of 1. A volume with neither true nor predicted tumour has undefined Dice: it is left out of the mean and median and counted. A volume with predicted but no true tumour has Dice 0.",
  },
  {
    term: 'False negative / false positive slices',
    definition:
      'End to end: tumour slices where the final output is empty; tumour-free slices where it is not.',
  },
];
