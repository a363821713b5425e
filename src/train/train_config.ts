// The model, the corpus and the recipe of a training run (TrainConfig), as the checkpoint
// stores them. Types only, below the options that parse them (options/train.ts) and
// config.ts, which names a field by its option; config.ts re-exports them.
import type { LanguageModelOptions } from '../nn/lm.js';
import type { AverageSchedule } from '../optim/moving_average.js';

export type { AverageSchedule };

/**
 * The model of a run: LanguageModel's options (their meanings are documented there) as a
 * checkpoint stores them, every size given and the groups as numbers; the vocabulary size and
 * the seed are the run's.
 */
export type ModelConfig = Required<Pick<LanguageModelOptions, 'cell' | 'layers' | 'emb' | 'hidden' | 'proj' | 'dropout'>> &
  Pick<LanguageModelOptions, 'factor' | 'precision'> & { groups?: number | number[] };

export interface TrainConfig {
  data: string;
  model: ModelConfig;
  batch: number;
  bptt: number;
  optimizer: 'adagrad' | 'adam' | 'sgd';
  lr: number;
  /** Global-norm clip of the LSTM weights (0: none). */
  clip: number;
  /** Sampled-softmax samples (0: full softmax). */
  sampled: number;
  /** Decay of the moving average of the LSTM weights used for evaluation (absent: none). */
  ema?: number;
  /**
   * With `ema`, how the decay goes: 'warmup' is min(ema, (1 + t)/(10 + t)) at step t
   * (TensorFlow's ExponentialMovingAverage with num_updates), 'fixed' is ema from the first
   * step (f-lm's). Absent with `ema`: fixed (a configuration written before the field existed).
   */
  emaSchedule?: AverageSchedule;
  seed: number;
  maxVocab?: number;
  minCount?: number;
  /** text corpora: a vocabulary file (`word count` per line, with `<unk>` and `<eos>`). */
  vocabFile?: string;
  /** Validation during training: how often, and what it changes (absent: validation at the end only). */
  validation?: ValidationConfig;
}

/**
 * Validation every `every` steps on `tokens` tokens of the validation split. After each one,
 * the best checkpoint is kept; optionally the learning rate is multiplied by `lrDecay` when
 * the validation loss did not improve on the best, and training stops after `patience`
 * validations in a row without improvement. Both are off by default (the paper's recipe).
 */
export interface ValidationConfig {
  every: number;
  /** Tokens per validation (absent: the whole split). */
  tokens?: number;
  patience?: number;
  lrDecay?: number;
}
