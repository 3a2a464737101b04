/**
 * Retrieval for retrieval-augmented generation, in TypeScript.
 *
 * @module
 */
export {};
