/**
 * Deploying a tuned model (lesson 03): merge an adapter, convert to GGUF with llama.cpp's converter,
 * quantize with llama.cpp's quantizer, run GGUF and ONNX files from TypeScript, write an Ollama Modelfile,
 * and chat with an OpenAI-compatible server.
 *
 * @module
 */
export * from "./deploy_tools.ts";
export * from "./generator.ts";
export * from "./chat_template.ts";
export * from "./compare_formats.ts";
export * from "./hf_tokenizer.ts";
export * from "./onnx_export.ts";
export * from "./onnx_model.ts";
export * from "./onnx_parity.ts";
