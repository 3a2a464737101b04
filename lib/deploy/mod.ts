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
export * from "./ggml_types.ts";
export * from "./gguf_file.ts";
export * from "./gguf_convert.ts";
export * from "./quantize_gguf.ts";
export * from "./gguf_model.ts";
export * from "./go_template.ts";
export * from "./ollama_template.ts";
export * from "./modelfile.ts";
export * from "./openai_chat.ts";
export * from "./llama_server.ts";
export * from "./ollama.ts";
