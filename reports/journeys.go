package reports

// Journey is what one synthetic journey did: how many ran to an answer,
// how many succeeded (every step answered its expected status), and the
// failures by step.
type Journey struct {
	Name      string         `json:"name"`
	Done      int            `json:"done"`
	Succeeded int            `json:"succeeded"`
	Ratio     float64        `json:"success_ratio"`
	Failed    map[string]int `json:"failed,omitempty"` // "2 POST /pay: 503" -> count
}
