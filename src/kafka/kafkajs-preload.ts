/**
 * Imported before kafkajs by every module that imports kafkajs (ESM evaluates a module's imports in
 * order): puts kafkajs fix 10 (src/kafka/kafkajs-fixes.ts) into the module cache before kafkajs's
 * producer loads and takes its own. installKafkajsFixes checks that it did.
 */
import { installBeforeKafkajs } from './kafkajs-fixes.js';

installBeforeKafkajs();
