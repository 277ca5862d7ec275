package dist

import (
	"encoding/json"
	"strconv"
)

// The values of the bucket's keys (lockVal, qVal, tokVal) are small flat
// JSON objects. Every wait re-reads them on each change of its view, so they
// are encoded and decoded here without reflection; anything outside the
// plain shape these functions write (an escaped string, another type) goes
// through encoding/json, which reads and writes the same format.

// rec holds the fields of every kind of value (their JSON names differ).
type rec struct {
	O string `json:"o"`
	T uint64 `json:"t,omitempty"`
	B string `json:"b,omitempty"`
	W bool   `json:"w,omitempty"`
	C bool   `json:"c,omitempty"`
	A bool   `json:"a,omitempty"`
}

// plain reports whether s needs no escaping in JSON.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// encRec writes r with the fields in the order o, t, b, w, c, a, leaving
// out the empty ones but o (as encoding/json writes the structs below).
func encRec(r rec) []byte {
	if !plain(r.O) || !plain(r.B) {
		b, err := json.Marshal(r)
		if err != nil {
			panic(err)
		}
		return b
	}
	b := make([]byte, 0, 16+len(r.O)+len(r.B)+40)
	b = append(b, `{"o":"`...)
	b = append(b, r.O...)
	b = append(b, '"')
	if r.T != 0 {
		b = append(b, `,"t":`...)
		b = strconv.AppendUint(b, r.T, 10)
	}
	if r.B != "" {
		b = append(b, `,"b":"`...)
		b = append(b, r.B...)
		b = append(b, '"')
	}
	if r.W {
		b = append(b, `,"w":true`...)
	}
	if r.C {
		b = append(b, `,"c":true`...)
	}
	if r.A {
		b = append(b, `,"a":true`...)
	}
	return append(b, '}')
}

// decRec reads a value written by encRec (or by encoding/json from any of
// the structs below); an undecodable value reads as the zero rec.
func decRec(b []byte) rec {
	if r, ok := decPlain(b); ok {
		return r
	}
	var r rec
	_ = json.Unmarshal(b, &r)
	return r
}

// decPlain reads a flat object of one-letter keys whose values are strings
// without escapes, unsigned integers or true/false, without whitespace; ok
// is false for anything else.
func decPlain(b []byte) (r rec, ok bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return rec{}, false
	}
	i := 1
	if b[i] == '}' {
		return r, true
	}
	for {
		// "k":
		if i+4 > len(b) || b[i] != '"' || b[i+2] != '"' || b[i+3] != ':' {
			return rec{}, false
		}
		k := b[i+1]
		i += 4
		if i >= len(b) {
			return rec{}, false
		}
		switch c := b[i]; {
		case c == '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' || b[j] < 0x20 || b[j] >= 0x80 {
					return rec{}, false // escapes, control bytes, non-ASCII: encoding/json decides
				}
				j++
			}
			if j >= len(b) {
				return rec{}, false
			}
			s := string(b[i+1 : j])
			switch k {
			case 'o':
				r.O = s
			case 'b':
				r.B = s
			default:
				return rec{}, false
			}
			i = j + 1
		case c >= '0' && c <= '9':
			j := i
			var n uint64
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				if n > (1<<64-1-9)/10 {
					return rec{}, false
				}
				n = n*10 + uint64(b[j]-'0')
				j++
			}
			if k != 't' || (b[i] == '0' && j > i+1) {
				return rec{}, false // a leading zero is not JSON: encoding/json refuses it
			}
			r.T = n
			i = j
		case c == 't' || c == 'f':
			var v bool
			switch {
			case len(b)-i >= 4 && string(b[i:i+4]) == "true":
				v, i = true, i+4
			case len(b)-i >= 5 && string(b[i:i+5]) == "false":
				i += 5
			default:
				return rec{}, false
			}
			switch k {
			case 'w':
				r.W = v
			case 'c':
				r.C = v
			case 'a':
				r.A = v
			default:
				return rec{}, false
			}
		default:
			return rec{}, false
		}
		if i >= len(b) {
			return rec{}, false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return r, i == len(b)-1
		default:
			return rec{}, false
		}
	}
}
