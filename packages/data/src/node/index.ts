// @welford/data/node: the loaders that read files or npm packages (node: modules), kept out of
// the browser entry.
export { readIdxFile } from './idx_file.ts';
export { loadFashionMnist, FASHION_MNIST_CLASSES, FASHION_MNIST_DEBIAN_DIR, type FashionMnistOptions } from './fashion_mnist.ts';
export { loadMnistDigits, type MnistDigitsOptions } from './mnist_digits.ts';
export { writePackedDatasets, type PackFilesOptions } from './pack_files.ts';
