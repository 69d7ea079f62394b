/**
 * Puts a schedule written by a person into one spelling before the rules read it: lower case,
 * half-width digits and punctuation, single spaces, English number words and Chinese numerals as
 * digits (only where a unit follows, so 周一 stays a weekday and 一刻 a quarter).
 */

const WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fifteen: 15,
  twenty: 20,
  thirty: 30,
};

const CN_DIGITS: Record<string, number> = {
  零: 0,
  〇: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

/** 十五 → 15, 二十三 → 23, 三十 → 30, 两 → 2; undefined for what is not a number below 100. */
export function chineseNumber(text: string): number | undefined {
  if (text === "") return undefined;
  const ten = text.indexOf("十");
  if (ten === -1) {
    if (text.length !== 1) return undefined;
    return CN_DIGITS[text];
  }
  if (text.indexOf("十", ten + 1) !== -1) return undefined;
  const before = text.slice(0, ten);
  const after = text.slice(ten + 1);
  const tens = before === "" ? 1 : CN_DIGITS[before];
  const ones = after === "" ? 0 : CN_DIGITS[after];
  if (tens === undefined || ones === undefined || before.length > 1 || after.length > 1) return undefined;
  return tens * 10 + ones;
}

/** Units after which a Chinese numeral is a count or a clock value. */
const CN_UNIT = "(?=\\s*(?:个|点|时|分|秒|小|天|日|号|月|次|钟|周))";

export function normalize(text: string): string {
  let out = text
    .normalize("NFKC") // full-width digits, letters, colon and comma become their ASCII forms
    .toLowerCase()
    .replace(/[，]/g, ",")
    .replace(/\ba\.m\.?/g, "am")
    .replace(/\bp\.m\.?/g, "pm");
  out = out.replace(new RegExp(`[零〇一二两三四五六七八九十]+${CN_UNIT}`, "g"), (numeral) => {
    const value = chineseNumber(numeral);
    return value === undefined ? numeral : String(value);
  });
  // 每晚8点 is 每天晚上8点: say so once here instead of in every time rule.
  out = out.replace(/每晚/g, "每天晚上").replace(/每早/g, "每天早上");
  out = out.replace(
    /\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty)\b/g,
    (w) => String(WORDS[w]),
  );
  return out.replace(/\s+/g, " ").trim();
}
