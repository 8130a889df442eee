export { createRng, type Rng, type RngSeed } from "./rng.js";
