import { clicks } from './clicks.js';
import { sectionTraffic } from './section-traffic.js';
import { transactions } from './transactions.js';

/**
 * Every window pipeline, in the order the flush exports them. A new pipeline is a file beside these, a
 * line here, and its table's schema in schemas/; one with a topic gets its function from functions/catalog.ts,
 * which declares one per such pipeline (see docs/architecture.md: "Adding a window pipeline").
 */
export const WINDOW_PIPELINES = [clicks, transactions, sectionTraffic] as const;

export type WindowPipelineName = (typeof WINDOW_PIPELINES)[number]['name'];
/** the pipelines SPEEDCAM_PIPELINES configures */
export type ConfigurablePipeline = Extract<(typeof WINDOW_PIPELINES)[number], { configurable: true }>['name'];
/** the pipelines with a topic (and a function) of their own */
export type TopicPipelineName = Extract<(typeof WINDOW_PIPELINES)[number], { input: { kind: 'topic' } }>['name'];
