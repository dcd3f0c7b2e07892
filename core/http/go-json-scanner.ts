// Go's encoding/json scanner (scanner.go): the byte-at-a-time state machine json.Unmarshal
// runs over its whole input before decoding, with its exact syntax error texts.
import { goEscapeRune } from "./go-quote.ts";

// Step results (Go's scan* opcodes); only the ones callers look at are distinguished.
const CONTINUE = 0;
const SKIP_SPACE = 9;
const END = 10;
const ERROR = 11;

// Parse states kept on the stack.
const OBJECT_KEY = 0;
const OBJECT_VALUE = 1;
const ARRAY_VALUE = 2;

/** Go's maxNestingDepth. */
const MAX_DEPTH = 10000;

type Step = (s: Scanner, c: number) => number;

class Scanner {
  step: Step = stateBeginValue;
  endTop = false;
  parseState: number[] = [];
  err: string | null = null;

  error(c: number, context: string): number {
    this.step = stateError;
    this.err = "invalid character " + quoteChar(c) + " " + context;
    return ERROR;
  }

  pushParseState(c: number, state: number, success: number): number {
    this.parseState.push(state);
    if (this.parseState.length <= MAX_DEPTH) return success;
    return this.error(c, "exceeded max depth");
  }

  popParseState(): void {
    this.parseState.pop();
    if (this.parseState.length === 0) {
      this.step = stateEndTop;
      this.endTop = true;
    } else {
      this.step = stateEndValue;
    }
  }

  eof(): number {
    if (this.err !== null) return ERROR;
    if (this.endTop) return END;
    this.step(this, 0x20);
    if (this.endTop) return END;
    this.err ??= "unexpected end of JSON input";
    return ERROR;
  }
}

/** Go's quoteChar: a byte as a quoted character literal ('x', '\n', '\u0080', 'ÿ'). */
export function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  // strconv.Quote(string(rune(c))) without its double quotes.
  return "'" + goEscapeRune(c) + "'";
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

function stateBeginValueOrEmpty(s: Scanner, c: number): number {
  if (isSpace(c)) return SKIP_SPACE;
  if (c === 0x5d /* ] */) return stateEndValue(s, c);
  return stateBeginValue(s, c);
}

function stateBeginValue(s: Scanner, c: number): number {
  if (isSpace(c)) return SKIP_SPACE;
  switch (c) {
    case 0x7b /* { */:
      s.step = stateBeginStringOrEmpty;
      return s.pushParseState(c, OBJECT_KEY, CONTINUE);
    case 0x5b /* [ */:
      s.step = stateBeginValueOrEmpty;
      return s.pushParseState(c, ARRAY_VALUE, CONTINUE);
    case 0x22 /* " */:
      s.step = stateInString;
      return CONTINUE;
    case 0x2d /* - */:
      s.step = stateNeg;
      return CONTINUE;
    case 0x30 /* 0 */:
      s.step = state0;
      return CONTINUE;
    case 0x74 /* t */:
      s.step = literal("true", 1, "in literal true (expecting ");
      return CONTINUE;
    case 0x66 /* f */:
      s.step = literal("false", 1, "in literal false (expecting ");
      return CONTINUE;
    case 0x6e /* n */:
      s.step = literal("null", 1, "in literal null (expecting ");
      return CONTINUE;
  }
  if (c >= 0x31 && c <= 0x39) {
    s.step = state1;
    return CONTINUE;
  }
  return s.error(c, "looking for beginning of value");
}

function stateBeginStringOrEmpty(s: Scanner, c: number): number {
  if (isSpace(c)) return SKIP_SPACE;
  if (c === 0x7d /* } */) {
    s.parseState[s.parseState.length - 1] = OBJECT_VALUE;
    return stateEndValue(s, c);
  }
  return stateBeginString(s, c);
}

function stateBeginString(s: Scanner, c: number): number {
  if (isSpace(c)) return SKIP_SPACE;
  if (c === 0x22) {
    s.step = stateInString;
    return CONTINUE;
  }
  return s.error(c, "looking for beginning of object key string");
}

function stateEndValue(s: Scanner, c: number): number {
  const n = s.parseState.length;
  if (n === 0) {
    s.step = stateEndTop;
    s.endTop = true;
    return stateEndTop(s, c);
  }
  if (isSpace(c)) {
    s.step = stateEndValue;
    return SKIP_SPACE;
  }
  switch (s.parseState[n - 1]) {
    case OBJECT_KEY:
      if (c === 0x3a /* : */) {
        s.parseState[n - 1] = OBJECT_VALUE;
        s.step = stateBeginValue;
        return CONTINUE;
      }
      return s.error(c, "after object key");
    case OBJECT_VALUE:
      if (c === 0x2c /* , */) {
        s.parseState[n - 1] = OBJECT_KEY;
        s.step = stateBeginString;
        return CONTINUE;
      }
      if (c === 0x7d /* } */) {
        s.popParseState();
        return CONTINUE;
      }
      return s.error(c, "after object key:value pair");
    default: // ARRAY_VALUE
      if (c === 0x2c) {
        s.step = stateBeginValue;
        return CONTINUE;
      }
      if (c === 0x5d /* ] */) {
        s.popParseState();
        return CONTINUE;
      }
      return s.error(c, "after array element");
  }
}

function stateEndTop(s: Scanner, c: number): number {
  // Complain about a non-space byte on the next call (the error state answers it).
  if (!isSpace(c)) s.error(c, "after top-level value");
  return END;
}

function stateInString(s: Scanner, c: number): number {
  if (c === 0x22) {
    s.step = stateEndValue;
    return CONTINUE;
  }
  if (c === 0x5c /* \ */) {
    s.step = stateInStringEsc;
    return CONTINUE;
  }
  if (c < 0x20) return s.error(c, "in string literal");
  return CONTINUE;
}

function stateInStringEsc(s: Scanner, c: number): number {
  if ("bfnrt\\/\"".includes(String.fromCharCode(c))) {
    s.step = stateInString;
    return CONTINUE;
  }
  if (c === 0x75 /* u */) {
    s.step = hexDigit(4);
    return CONTINUE;
  }
  return s.error(c, "in string escape code");
}

/** The states after "\u", "\u1", "\u12", "\u123": `left` hex digits to go. */
const hexStates: Step[] = [];
function hexDigit(left: number): Step {
  return (hexStates[left] ??= (s, c) => {
    if (isHex(c)) {
      s.step = left === 1 ? stateInString : hexDigit(left - 1);
      return CONTINUE;
    }
    return s.error(c, "in \\u hexadecimal character escape");
  });
}

function stateNeg(s: Scanner, c: number): number {
  if (c === 0x30) {
    s.step = state0;
    return CONTINUE;
  }
  if (c >= 0x31 && c <= 0x39) {
    s.step = state1;
    return CONTINUE;
  }
  return s.error(c, "in numeric literal");
}

function state1(s: Scanner, c: number): number {
  if (isDigit(c)) {
    s.step = state1;
    return CONTINUE;
  }
  return state0(s, c);
}

function state0(s: Scanner, c: number): number {
  if (c === 0x2e /* . */) {
    s.step = stateDot;
    return CONTINUE;
  }
  if (c === 0x65 || c === 0x45 /* e E */) {
    s.step = stateE;
    return CONTINUE;
  }
  return stateEndValue(s, c);
}

function stateDot(s: Scanner, c: number): number {
  if (isDigit(c)) {
    s.step = stateDot0;
    return CONTINUE;
  }
  return s.error(c, "after decimal point in numeric literal");
}

function stateDot0(s: Scanner, c: number): number {
  if (isDigit(c)) return CONTINUE;
  if (c === 0x65 || c === 0x45) {
    s.step = stateE;
    return CONTINUE;
  }
  return stateEndValue(s, c);
}

function stateE(s: Scanner, c: number): number {
  if (c === 0x2b || c === 0x2d /* + - */) {
    s.step = stateESign;
    return CONTINUE;
  }
  return stateESign(s, c);
}

function stateESign(s: Scanner, c: number): number {
  if (isDigit(c)) {
    s.step = stateE0;
    return CONTINUE;
  }
  return s.error(c, "in exponent of numeric literal");
}

function stateE0(s: Scanner, c: number): number {
  if (isDigit(c)) return CONTINUE;
  return stateEndValue(s, c);
}

/** The states inside true/false/null after `done` letters (Go's stateT, stateTr, ...). */
const literalStates = new Map<string, Step>();
function literal(word: string, done: number, context: string): Step {
  const key = word + done;
  let step = literalStates.get(key);
  if (step === undefined) {
    const want = word.charCodeAt(done);
    step = (s, c) => {
      if (c === want) {
        s.step = done + 1 === word.length ? stateEndValue : literal(word, done + 1, context);
        return CONTINUE;
      }
      return s.error(c, context + "'" + word[done] + "')");
    };
    literalStates.set(key, step);
  }
  return step;
}

function stateError(): number {
  return ERROR;
}

/** Go's checkValid: null when data is one valid JSON value, else the SyntaxError text. */
export function goJSONSyntaxError(data: Uint8Array): string | null {
  const s = new Scanner();
  for (const c of data) {
    if (s.step(s, c) === ERROR) return s.err;
  }
  if (s.eof() === ERROR) return s.err;
  return null;
}
