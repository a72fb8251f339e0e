import type { TableNames } from '../identifiers.js'

/**
 * The two functions `increment` adds with, in the integer formats of src/core/integers.ts: a
 * statement decodes the stored field, adds and encodes the sum inside the database, so an increment
 * stays one statement. MessagePack is taken apart byte by byte; a float64 (how msgpackr writes
 * integers beyond 32 bits) is rebuilt from its exponent and mantissa with integer arithmetic, so no
 * floating point rounding can creep in.
 *
 * @param n - quoted names
 * @returns the `CREATE FUNCTION` statements of migration 2
 */
export function integerFunctions(n: TableNames): string[] {
  return [
    `CREATE FUNCTION ${n.decodeInteger}(v bytea, format text) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE STRICT AS $fn$
    DECLARE
      head int;
      size int := length(v);
      width int;
      value numeric;
      bits bigint;
      exponent int;
      mantissa bigint;
    BEGIN
      IF format = 'json' THEN
        -- What JSON.stringify writes for a safe integer, and nothing else: no '1e3', no '1.0'.
        IF size > 17 OR encode(v, 'escape') !~ '^-?(0|[1-9][0-9]*)$' THEN RETURN NULL; END IF;
        value := encode(v, 'escape')::numeric;
      ELSIF size = 0 THEN
        RETURN NULL;
      ELSE
        head := get_byte(v, 0);
        width := CASE head WHEN 204 THEN 1 WHEN 205 THEN 2 WHEN 206 THEN 4
          WHEN 208 THEN 1 WHEN 209 THEN 2 WHEN 210 THEN 4 ELSE NULL END;
        IF size = 1 AND head < 128 THEN
          value := head;
        ELSIF size = 1 AND head >= 224 THEN
          value := head - 256;
        ELSIF width IS NOT NULL AND size = width + 1 THEN
          value := ('x' || lpad(encode(substr(v, 2), 'hex'), 16, '0'))::bit(64)::bigint;
          -- int8/16/32 (0xd0-0xd2) are two's complement.
          IF head >= 208 AND value >= 2::numeric ^ (8 * width - 1) THEN value := value - 2::numeric ^ (8 * width); END IF;
        ELSIF head = 203 AND size = 9 THEN
          bits := ('x' || encode(substr(v, 2), 'hex'))::bit(64)::bigint;
          exponent := ((bits >> 52) & 2047)::int;
          -- Below 1 or from 2^53 on, no safe integer (msgpackr never writes 0 as a float).
          IF exponent < 1023 OR exponent > 1075 THEN RETURN NULL; END IF;
          mantissa := (bits & 4503599627370495) | 4503599627370496;
          IF mantissa % (1::bigint << (1075 - exponent)) <> 0 THEN RETURN NULL; END IF;
          value := mantissa >> (1075 - exponent);
          IF bits < 0 THEN value := -value; END IF;
        ELSE
          RETURN NULL;
        END IF;
      END IF;
      IF abs(value) > 9007199254740991 THEN RETURN NULL; END IF;
      RETURN value;
    END
    $fn$`,
    `CREATE FUNCTION ${n.encodeInteger}(value bigint, format text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT AS $fn$
    DECLARE
      magnitude bigint := abs(value);
      exponent int;
      bits bigint;
    BEGIN
      IF format = 'json' THEN RETURN convert_to(value::text, 'UTF8'); END IF;
      IF value BETWEEN -32 AND 127 THEN RETURN decode(lpad(to_hex((value + 256) % 256), 2, '0'), 'hex'); END IF;
      IF value BETWEEN 128 AND 255 THEN RETURN '\\xcc'::bytea || decode(lpad(to_hex(value), 2, '0'), 'hex'); END IF;
      IF value BETWEEN 256 AND 65535 THEN RETURN '\\xcd'::bytea || decode(lpad(to_hex(value), 4, '0'), 'hex'); END IF;
      IF value BETWEEN 65536 AND 4294967295 THEN RETURN '\\xce'::bytea || decode(lpad(to_hex(value), 8, '0'), 'hex'); END IF;
      IF value BETWEEN -128 AND -33 THEN RETURN '\\xd0'::bytea || decode(to_hex(value + 256), 'hex'); END IF;
      IF value BETWEEN -32768 AND -129 THEN RETURN '\\xd1'::bytea || decode(to_hex(value + 65536), 'hex'); END IF;
      IF value BETWEEN -2147483648 AND -32769 THEN
        RETURN '\\xd2'::bytea || decode(to_hex(value + 4294967296), 'hex');
      END IF;
      -- A float64: the magnitude's highest set bit gives the exponent; the bits below it the mantissa.
      exponent := length(ltrim(magnitude::bit(64)::text, '0')) - 1;
      bits := ((exponent + 1023)::bigint << 52) | ((magnitude << (52 - exponent)) & 4503599627370495);
      IF value < 0 THEN bits := bits | (1::bigint << 63); END IF;
      RETURN '\\xcb'::bytea || decode(lpad(to_hex(bits), 16, '0'), 'hex');
    END
    $fn$`,
  ]
}
