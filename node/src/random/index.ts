export { createRng, xoshiro128StarStar, type Rng, type RngSeed } from "./rng.js";
