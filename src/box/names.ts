/** Docker-style generated box names: adjective_scientist, e.g. `quirky_lovelace`. */
import { randomInt } from "node:crypto";

// biome-ignore format: word lists read better packed
const ADJECTIVES = [
  "admiring", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "brave", "busy", "charming",
  "clever", "cool", "compassionate", "competent", "confident", "crazy", "dazzling", "determined", "eager",
  "ecstatic", "elastic", "elegant", "epic", "festive", "flamboyant", "focused", "friendly", "frosty",
  "gallant", "gifted", "goofy", "gracious", "happy", "hardcore", "heuristic", "hopeful", "hungry",
  "infallible", "inspiring", "jolly", "jovial", "keen", "kind", "laughing", "loving", "lucid", "magical",
  "modest", "musing", "mystifying", "naughty", "nervous", "nice", "nifty", "nostalgic", "objective",
  "optimistic", "peaceful", "pedantic", "pensive", "practical", "priceless", "quirky", "quizzical",
  "relaxed", "reverent", "romantic", "serene", "sharp", "silly", "sleepy", "stoic", "strange", "suspicious",
  "sweet", "tender", "thirsty", "trusting", "upbeat", "vibrant", "vigilant", "wizardly", "wonderful",
  "xenodochial", "youthful", "zealous", "zen",
];

// biome-ignore format: word lists read better packed
const SCIENTISTS = [
  "agnesi", "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bartik", "bell", "bhabha",
  "blackwell", "bohr", "booth", "borg", "bose", "brattain", "brown", "carson", "cerf", "chandrasekhar",
  "clarke", "colden", "cori", "curie", "darwin", "davinci", "dijkstra", "einstein", "elion", "engelbart",
  "euclid", "euler", "fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "goldberg", "goodall",
  "hamilton", "hawking", "heisenberg", "hermann", "hodgkin", "hopper", "hypatia", "jackson", "jang",
  "johnson", "kalam", "kepler", "khorana", "knuth", "kowalevski", "lamarr", "lamport", "leakey",
  "lovelace", "lumiere", "margulis", "mayer", "mccarthy", "mcclintock", "meitner", "mendel", "merkle",
  "mirzakhani", "montalcini", "moore", "morse", "napier", "newton", "nobel", "noether", "pascal",
  "pasteur", "perlman", "pike", "poincare", "ptolemy", "raman", "ramanujan", "ritchie", "rosalind",
  "sammet", "shamir", "shannon", "shockley", "sinoussi", "spence", "stonebraker", "sutherland", "swartz",
  "tesla", "thompson", "torvalds", "turing", "varahamihira", "wilbur", "wiles", "williams", "wozniak",
  "wright", "yalow", "yonath",
];

export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; attempt < 20; attempt++) {
    const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SCIENTISTS[randomInt(SCIENTISTS.length)]}`;
    const candidate = attempt < 10 ? name : `${name}${randomInt(10)}`;
    if (!taken(candidate)) return candidate;
  }
  throw new Error("could not generate a free box name");
}

/** Docker's rule for user-chosen names. */
export const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
