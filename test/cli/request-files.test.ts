import { locateJsonError, parseJson, parseYaml } from '../../cli/request-files';

describe('JSON syntax errors are located', () => {
  test.each([
    ['a trailing comma', '{\n  "a": 1,\n}', 3, 1, "expected a property name in double quotes but found '}'"],
    ['a missing comma', '{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ',' or '}' but found '\"'"],
    ['a missing value', '{ "a": }', 1, 8, "unexpected '}'"],
    ['an unterminated string', '{\n  "a": "x\n}', 2, 10, 'control character in string (escape it)'],
    ['a single-quoted string', "{ 'a': 1 }", 1, 3, "expected a property name in double quotes but found '''"],
    ['a second value', '{}\n{}', 2, 1, "unexpected '{' after the end of the JSON value"],
    ['an unclosed object', '{ "a": [1, 2]', 1, 14, "expected ',' or '}' but found end of input"],
    ['an empty file', '', 1, 1, 'unexpected end of input'],
    ['a bad literal', '{ "a": tru }', 1, 8, "unexpected 't'"],
  ])('%s', (_what, text, line, column, reason) => {
    expect(() => JSON.parse(text)).toThrow();

    expect(parseJson(text)).toEqual({ ok: false, format: 'JSON', reason, line, column });
  });

  test('valid JSON has no error, and parses (a byte order mark is allowed)', () => {
    const text = '{ "a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"], "b": {} }';
    expect(locateJsonError(text)).toBeUndefined();
    expect(parseJson(`\ufeff${text}`)).toEqual({ ok: true, data: JSON.parse(text) });
  });
});

describe('YAML', () => {
  test('a duplicate key is an error with its line', () => {
    expect(parseYaml('accountName: a\naccountEmail: x@example.com\naccountName: b\n')).toEqual({
      ok: false,
      format: 'YAML',
      reason: 'Map keys must be unique',
      line: 3,
      column: 1,
    });
  });

  test('YAML 1.2: yes and no are strings, not booleans', () => {
    expect(parseYaml('closeOnRemoval: yes\n')).toEqual({ ok: true, data: { closeOnRemoval: 'yes' } });
  });
});
