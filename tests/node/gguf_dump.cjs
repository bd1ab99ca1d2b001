// Prints the metadata and tensor infos of a GGUF file as @huggingface/gguf
// (a reader wqc did not write) parses them, as JSON.
// usage: WQC_NODE_MODULES=DIR node gguf_dump.cjs FILE.gguf
const { gguf } = require(process.env.WQC_NODE_MODULES + "/@huggingface/gguf");
(async () => {
  const r = await gguf(process.argv[2], { allowLocalFile: true });
  const meta = {};
  for (const [k, v] of Object.entries(r.metadata)) meta[k] = typeof v === "bigint" ? v.toString() : v;
  const tensors = r.tensorInfos.map(t => ({ name: t.name, shape: t.shape.map(Number), dtype: t.dtype, offset: Number(t.offset) }));
  console.log(JSON.stringify({ metadata: meta, tensors }));
})().catch(e => { console.error(String(e)); process.exit(1); });
