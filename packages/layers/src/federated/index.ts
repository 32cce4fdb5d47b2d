// Federated training simulated on one machine: FedAvg and FedBN, and Gaussian noise on the
// normalization statistics that clients share.
export { Federation, type FederationOptions, type AggregationReport, type NoiseReport, type ClientNoise } from './federation.ts';
export { federatedEntries, isShared, checkSameArchitecture, FEDERATED_STRATEGIES, type FederatedStrategy, type FederatedEntry, type StatePart } from './state_roles.ts';
export { gaussianMechanism, gaussianNoiseSigma, checkPrivacy, type StatisticsPrivacy, type PrivatizedVector, type NormalSource } from './gaussian_mechanism.ts';
