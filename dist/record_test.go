package dist

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// The hand-written codec of the bucket's values agrees with encoding/json
// both ways, for plain and for escaped strings.
func TestRecordCodec(t *testing.T) {
	strs := []string{"", "a", "abc-XYZ_09", "s:hello world", `q"uote`, `back\slash`, "<&>", "é", "tab\t", "\u2028", "\x7f", "\x00"}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 2000; n++ {
		v := rec{O: strs[r.IntN(len(strs))], B: strs[r.IntN(len(strs))], W: r.IntN(2) == 0, C: r.IntN(2) == 0, A: r.IntN(2) == 0}
		switch r.IntN(3) {
		case 1:
			v.T = r.Uint64N(1 << 20)
		case 2:
			v.T = r.Uint64()
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got := encRec(v)
		if string(got) != string(want) {
			t.Fatalf("encRec(%+v) = %s, json = %s", v, got, want)
		}
		if back := decRec(got); back != v {
			t.Fatalf("decRec(%s) = %+v, want %+v", got, back, v)
		}
	}
	for _, s := range []string{`{"o":"x", "w":true}`, `{"w":false,"o":"y","t":7}`, `{"o":"z","x":1}`, `not json`, `{}`, `{"o":"a\u0062"}`, `{"t":18446744073709551615}`,
		"{\"o\":\"a\x01b\"}", "{\"o\":\"\xff\"}", "{\"o\":\"a\xc3\"}", "{\"o\":\"\x7f\"}", `{"t":007}`, `{"t":0}`, `{"t":10}`} {
		var want rec
		_ = json.Unmarshal([]byte(s), &want)
		if got := decRec([]byte(s)); got != want {
			t.Errorf("decRec(%s) = %+v, json reads %+v", s, got, want)
		}
	}
	// The structs the package writes encode as their rec does.
	for _, v := range []any{lockVal{O: "o1", W: true, C: true}, qVal{O: "o2", T: 9}, tokVal{O: "o3", T: 4, B: "s:b", A: true}} {
		want, _ := json.Marshal(v)
		if got := enc(v); string(got) != string(want) {
			t.Errorf("enc(%#v) = %s, json = %s", v, got, want)
		}
	}
}
