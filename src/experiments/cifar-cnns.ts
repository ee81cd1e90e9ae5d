// Claimed by the CNN-experiments helper; implementation in progress.
export {};
