#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Specs are flat; the limit only keeps hostile nesting from exhausting PID 1's stack. */
#define MAX_DEPTH 16

struct parser {
  const uint8_t *cursor;
  const uint8_t *end;
  int depth;
};

static bool parse_value(struct parser *parser, struct json *out);

static void skip_space(struct parser *parser) {
  while (parser->cursor < parser->end &&
         (*parser->cursor == ' ' || *parser->cursor == '\t' || *parser->cursor == '\n' || *parser->cursor == '\r'))
    parser->cursor++;
}

static bool consume(struct parser *parser, char expected) {
  skip_space(parser);
  if (parser->cursor >= parser->end || *parser->cursor != expected) return false;
  parser->cursor++;
  return true;
}

static bool consume_word(struct parser *parser, const char *word) {
  size_t length = strlen(word);
  if ((size_t)(parser->end - parser->cursor) < length || memcmp(parser->cursor, word, length) != 0) return false;
  parser->cursor += length;
  return true;
}

static int hex_digit(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool parse_hex4(struct parser *parser, uint32_t *out) {
  if (parser->end - parser->cursor < 4) return false;
  uint32_t value = 0;
  for (int i = 0; i < 4; i++) {
    int digit = hex_digit(*parser->cursor++);
    if (digit < 0) return false;
    value = value << 4 | (uint32_t)digit;
  }
  *out = value;
  return true;
}

static void append_utf8(struct buffer *out, uint32_t code) {
  uint8_t bytes[4];
  size_t length;
  if (code < 0x80) {
    bytes[0] = (uint8_t)code;
    length = 1;
  } else if (code < 0x800) {
    bytes[0] = (uint8_t)(0xC0 | code >> 6);
    bytes[1] = (uint8_t)(0x80 | (code & 0x3F));
    length = 2;
  } else if (code < 0x10000) {
    bytes[0] = (uint8_t)(0xE0 | code >> 12);
    bytes[1] = (uint8_t)(0x80 | (code >> 6 & 0x3F));
    bytes[2] = (uint8_t)(0x80 | (code & 0x3F));
    length = 3;
  } else {
    bytes[0] = (uint8_t)(0xF0 | code >> 18);
    bytes[1] = (uint8_t)(0x80 | (code >> 12 & 0x3F));
    bytes[2] = (uint8_t)(0x80 | (code >> 6 & 0x3F));
    bytes[3] = (uint8_t)(0x80 | (code & 0x3F));
    length = 4;
  }
  buffer_append(out, bytes, length);
}

/* \uXXXX, joining a UTF-16 surrogate pair into one code point. */
static bool parse_unicode_escape(struct parser *parser, struct buffer *out) {
  uint32_t code;
  if (!parse_hex4(parser, &code)) return false;
  if (code >= 0xD800 && code <= 0xDBFF) {
    uint32_t low;
    if (!consume_word(parser, "\\u") || !parse_hex4(parser, &low) || low < 0xDC00 || low > 0xDFFF) return false;
    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
  } else if (code >= 0xDC00 && code <= 0xDFFF) {
    return false;
  }
  append_utf8(out, code);
  return true;
}

static bool parse_escape(struct parser *parser, struct buffer *out) {
  if (parser->cursor >= parser->end) return false;
  uint8_t c = *parser->cursor++;
  static const char from[] = "\"\\/bfnrt";
  static const char to[] = "\"\\/\b\f\n\r\t";
  const char *known = c ? strchr(from, c) : NULL;
  if (known) {
    buffer_append(out, &to[known - from], 1);
    return true;
  }
  return c == 'u' && parse_unicode_escape(parser, out);
}

static bool parse_string_into(struct parser *parser, char **text, size_t *length) {
  if (!consume(parser, '"')) return false;
  struct buffer out = {0};
  while (parser->cursor < parser->end && *parser->cursor != '"') {
    uint8_t c = *parser->cursor++;
    if (c < 0x20 || (c == '\\' && !parse_escape(parser, &out))) {
      buffer_free(&out);
      return false;
    }
    if (c != '\\') buffer_append(&out, &c, 1);
  }
  if (parser->cursor >= parser->end) {
    buffer_free(&out);
    return false;
  }
  parser->cursor++;
  *length = buffer_length(&out);
  buffer_append(&out, "", 1);
  *text = (char *)out.data;
  return true;
}

static bool parse_number(struct parser *parser, struct json *out) {
  const uint8_t *start = parser->cursor;
  while (parser->cursor < parser->end && strchr("+-0123456789.eE", *parser->cursor) && *parser->cursor)
    parser->cursor++;
  size_t length = (size_t)(parser->cursor - start);
  char text[64];
  if (length == 0 || length >= sizeof text) return false;
  memcpy(text, start, length);
  text[length] = '\0';
  char *stop;
  out->type = JSON_NUMBER;
  out->number = strtod(text, &stop);
  return *stop == '\0' && isfinite(out->number);
}

static bool parse_items(struct parser *parser, struct json *out, char close, bool members) {
  if (consume(parser, close)) return true;
  size_t capacity = 0;
  do {
    if (out->count == capacity) {
      capacity = capacity ? capacity * 2 : 4;
      out->items = xrealloc(out->items, capacity * sizeof *out->items);
    }
    struct json *item = &out->items[out->count];
    *item = (struct json){0};
    size_t key_length;
    if (members && (!parse_string_into(parser, &item->key, &key_length) || !consume(parser, ':'))) {
      free(item->key);
      return false;
    }
    out->count++;
    if (!parse_value(parser, item)) return false;
  } while (consume(parser, ','));
  return consume(parser, close);
}

static bool parse_value(struct parser *parser, struct json *out) {
  skip_space(parser);
  if (parser->cursor >= parser->end || ++parser->depth > MAX_DEPTH) return false;
  bool ok;
  switch (*parser->cursor) {
    case '{':
      parser->cursor++;
      out->type = JSON_OBJECT;
      ok = parse_items(parser, out, '}', true);
      break;
    case '[':
      parser->cursor++;
      out->type = JSON_ARRAY;
      ok = parse_items(parser, out, ']', false);
      break;
    case '"':
      out->type = JSON_STRING;
      ok = parse_string_into(parser, &out->string, &out->string_length);
      break;
    case 't':
      out->type = JSON_BOOL;
      ok = out->boolean = consume_word(parser, "true");
      break;
    case 'f':
      out->type = JSON_BOOL;
      ok = consume_word(parser, "false");
      break;
    case 'n':
      ok = consume_word(parser, "null");
      break;
    default:
      ok = parse_number(parser, out);
  }
  parser->depth--;
  return ok;
}

static void free_contents(struct json *value) {
  for (size_t i = 0; i < value->count; i++) free_contents(&value->items[i]);
  free(value->items);
  free(value->string);
  free(value->key);
}

void json_free(struct json *value) {
  if (!value) return;
  free_contents(value);
  free(value);
}

struct json *json_parse(const uint8_t *text, size_t length) {
  struct parser parser = {.cursor = text, .end = text + length};
  struct json *value = xmalloc(sizeof *value);
  *value = (struct json){0};
  bool ok = parse_value(&parser, value);
  skip_space(&parser);
  if (!ok || parser.cursor != parser.end) {
    json_free(value);
    return NULL;
  }
  return value;
}

const struct json *json_member(const struct json *object, const char *key) {
  if (!object || object->type != JSON_OBJECT) return NULL;
  for (size_t i = 0; i < object->count; i++)
    if (strcmp(object->items[i].key, key) == 0) return &object->items[i];
  return NULL;
}

bool json_integer(const struct json *value, int64_t min, int64_t max, int64_t *out) {
  if (!value || value->type != JSON_NUMBER || value->number != floor(value->number)) return false;
  if (value->number < (double)min || value->number > (double)max) return false;
  *out = (int64_t)value->number;
  return true;
}

void json_append_string(struct buffer *out, const char *text) {
  buffer_append(out, "\"", 1);
  for (const uint8_t *c = (const uint8_t *)text; *c; c++) {
    char escaped[8];
    if (*c == '"' || *c == '\\') {
      escaped[0] = '\\';
      escaped[1] = (char)*c;
      buffer_append(out, escaped, 2);
    } else if (*c < 0x20) {
      snprintf(escaped, sizeof escaped, "\\u%04x", *c);
      buffer_append(out, escaped, 6);
    } else {
      buffer_append(out, c, 1);
    }
  }
  buffer_append(out, "\"", 1);
}
