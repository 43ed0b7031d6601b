// Usage: node check.mjs <base_url>. Prints one JSON object with what the official SDK received.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "sk-node", maxRetries: 0 });
const result = {};

const chat = await client.chat.completions.create({
  model: "databricks-claude-3-7-sonnet",
  messages: [{ role: "user", content: "hello node" }],
});
result.chat = { content: chat.choices[0].message.content, reasoning: chat.choices[0].message.reasoning_content };

const stream = await client.chat.completions.create({
  model: "databricks-meta-llama-3-3-70b-instruct",
  messages: [{ role: "user", content: "one two" }],
  stream: true,
  stream_options: { include_usage: true },
});
let text = "";
let usage = null;
for await (const chunk of stream) {
  if (chunk.choices.length) text += chunk.choices[0].delta.content ?? "";
  if (chunk.usage) usage = chunk.usage;
}
result.stream = { text, usage };

const embedding = await client.embeddings.create({ model: "databricks-bge-large-en", input: ["a", "b"] });
const vector = embedding.data[0].embedding;
result.embeddings = {
  count: embedding.data.length,
  dim: vector.length,
  norm: Math.sqrt(vector.reduce((s, v) => s + v * v, 0)),
};

try {
  await client.chat.completions.create({ model: "fault-status-429", messages: [{ role: "user", content: "x" }] });
} catch (error) {
  result.error = { name: error.constructor.name, status: error.status };
}
console.log(JSON.stringify(result));
