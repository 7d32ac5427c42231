export { exportEvidenceBundle, type EvidenceLockIdentity, type ExportEvidenceOptions } from "./export.js";
export {
  runSampleScenario,
  tamperedSample,
  SAMPLE_DEMO_SEEDS,
  type SampleEvidence,
  type SampleOptions,
} from "./sample-scenario.js";
export { startParallelSignatures, type ParallelSignatures } from "./parallel-signatures.js";
