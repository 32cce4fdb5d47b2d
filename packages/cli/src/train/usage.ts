// The usage of `welford train`, `welford eval`, `welford adapt` and `welford federated` (docs/cli.md has the long form).

export const TRAIN_USAGE = `usage: welford train --model small-cnn|preact-resnet|unet --norm batch|group|layer|instance|batch-renorm|none
                     --dataset mnist|fashion-mnist|shapes [options]

Trains a model on WebGPU in Node (SwiftShader where there is no GPU), evaluates it on the test
split after each epoch, and writes metrics.jsonl, stats.jsonl, checkpoint.safetensors and run.json.
  model     --depth N (small-cnn conv stages, 4; preact-resnet 6n+2, 8; unet poolings, 3)  --width N (16)
            --groups N (group norm, 8)
  data      --batch N (32)  --epochs N (1)  --steps N (stop after N steps in all)
            --train-limit N / --test-limit N (use the first N samples)  --image-size N (shapes, 32)
            --augment crop,flip,mixup  --seed N (1)
  optimizer --optimizer sgd|adam|adamw (sgd)  --lr X (sgd 0.05, adam 0.001)  --momentum X (0.9)
            --weight-decay X (0; adamw 0.01)  --schedule none|step|cosine  --warmup N  --clip X
  output    --out DIR (runs/<model>-<norm>-<dataset>-<date>; a folder that holds a run is refused)
            --overwrite (replace the run in --out)  --log-every K (10)  --stats-every K (10; 0: off)
  where     --cpu (the CPU reference)  --browser [chromium|firefox] (headless; chromium)
            --gpu (with --browser: no SwiftShader)
  parallel  --replicas N (1: data-parallel on N devices, each a shard of every batch)
            --sync-bn (batch norm over the whole batch across the replicas)
Ctrl-C (SIGINT) or SIGTERM stops at the next step and saves the weights so far; a second one exits at once.
Exit status: 0 when training finished, 1 when it failed (missing data, NaN loss, a file it cannot write),
2 for bad arguments or an --out that holds a run, 130 (SIGINT) or 143 (SIGTERM) when interrupted.`;

export const EVAL_USAGE = `usage: welford eval --checkpoint FILE [--model M --norm N --dataset D ...] [--test-limit N] [--cpu]

Evaluates a checkpoint welford train wrote on the test split (loss, accuracy; mIoU for shapes).
The model's configuration comes from the checkpoint (or the run.json beside it); flags override it.
Exit status: 0 on success, 1 when the checkpoint or the data cannot be read, 2 for bad arguments.`;

export const ADAPT_USAGE = `usage: welford adapt --checkpoint FILE [--shots N] [--brightness B --contrast C] [--prior-strength K]
                     [--seed S] [--precise all|M] [--test-limit T] [--json OUT [--overwrite]] [--cpu]

Shifts the test images of a batch-norm checkpoint's dataset (x' = C·(x − image mean) + image mean + B
on [0, 1] intensities, clipped) and prints accuracy on the clean test split, on the shifted one with
the stored statistics, after few-shot re-estimation of the statistics from N unlabeled shifted
training images shrunk toward the stored ones (weight N/(N + K)), and with --precise after precise
batch norm on the first M (or all) shifted training images. The checkpoint is only read.
  --shots N (32)  --brightness B (0.3)  --contrast C (0.6)  --prior-strength K (4; 0: the shots alone, inf: stored)
  --seed S (1): which training images are the shots  --json OUT: also write the table as JSON
  --overwrite: replace an existing OUT (without it, an existing OUT is refused before any work)
Exit status: 0 on success, 1 when the checkpoint or the data cannot be used, 2 for bad arguments
or an existing OUT.`;

export const FEDERATED_USAGE = `usage: welford federated [--clients K] [--fedavg | --fedbn] [--local-affine] [--rounds R]
                         [--local-steps S | --local-epochs E] [--dataset fashion-mnist|mnist] [--model small-cnn]
                         [--norm batch] [--batch B] [--shift brightness|label]
                         [--dp-epsilon E --dp-delta D --dp-clip C] [--seed S] [--json OUT [--overwrite]] [--cpu]

Simulated federated training on one device: K clients with disjoint, non-IID shards train copies of
a small CNN for a few local steps per round, then a server averages them by FedAvg (everything) and
by FedBN (everything but the batch-norm statistics, which stay on each client), from the same
initial weights and data. Prints each client's test accuracy, on its own test images, under both.
  --clients K (8)  --rounds R (5)  --local-steps S (8) or --local-epochs E (passes over the shard)
  --fedavg / --fedbn: run only that rule  --local-affine: FedBN keeps the norms' weight and bias local too
  --shift brightness (a brightness and contrast shift per client) | label (two classes per client)
  --train-per-client N (320)  --test-per-client N (100)  --batch B (16)  --lr X (0.1)  --momentum X (0.9)
            (SGD, a fresh optimizer per client and round)
  --depth N (3)  --width N (8)  --norm batch|batch-renorm|group|layer|instance|none (batch)  --groups N (8)
  --dp-epsilon E (0 < E <= 1) --dp-delta D --dp-clip C: FedAvg's shared batch-norm statistics are
            clipped to L2 norm C per client and noised, σ = C·sqrt(2·ln(1.25/δ))/ε (FedBN shares none)
  --seed S (1): initial weights, shifts, shards, shuffling, noise  --json OUT: also write the table as JSON
  --overwrite: replace an existing OUT (without it, an existing OUT is refused before any work)
The defaults train 2 × 8 × 5 × 8 = 640 small steps, about 2.5 minutes on a software adapter, too few
for good accuracy. To make it bigger raise --rounds, --local-steps (or --local-epochs), --train-per-client,
--test-per-client, --width, --depth and --batch; on a GPU, e.g. --train-per-client 7000
--test-per-client 1000 --rounds 50 --local-epochs 1 --batch 32 --depth 4 --width 16.
Exit status: 0 on success, 1 when the data cannot be used or training fails, 2 for bad arguments
or an existing OUT.`;
