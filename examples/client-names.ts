// A readable name for a client id: the same id always gets the same two words.
const ADJECTIVES = [
  "amber",
  "brisk",
  "calm",
  "deft",
  "eager",
  "fond",
  "glad",
  "hazy",
  "ivory",
  "jolly",
  "keen",
  "lucid",
  "mild",
  "noble",
  "olive",
  "proud",
];
const ANIMALS = [
  "otter",
  "heron",
  "lynx",
  "wren",
  "bison",
  "crane",
  "gecko",
  "ibis",
  "koala",
  "lemur",
  "moose",
  "newt",
  "orca",
  "puffin",
  "quail",
  "raven",
];

export function clientName(id: string): string {
  let hash = 2166136261;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 16777619) >>> 0;
  return `${ADJECTIVES[hash % 16]} ${ANIMALS[(hash >>> 4) % 16]}`;
}
