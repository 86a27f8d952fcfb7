// Image preprocessing, the public face of src/vision: decode what a page holds, then reproduce
// KimiVLImageProcessor exactly (spec §4). Model code needs only these two calls and their types.
export { decodeImage, type ImageInput } from './decode.ts';
export { MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, type PilMode, type RgbaImage } from './image.ts';
export {
  type ImagePlan,
  type PatchGrid,
  type PreprocessConfig,
  type PreprocessedBatch,
  type PreprocessedImage,
  planImage,
  preprocessImage,
  preprocessImages,
} from './preprocess.ts';
