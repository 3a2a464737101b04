// Command ollama_check runs Ollama's own Modelfile parser and template renderer (github.com/ollama/ollama
// v0.17.4) on what ince writes, for tests/deploy_chat_test.ts. It reads one JSON job on stdin:
//
//	{"modelfile": "FROM …", "templates": ["{{ … }}"], "conversations": [[{"role": "user", "content": "…"}]]}
//
// and prints one JSON answer: the Modelfile's commands, its String() and its create request (or the parse
// error), and each template (the Modelfile's TEMPLATE first, when it has one) rendered for each conversation
// by Ollama's template.Execute (or the error).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/parser"
	"github.com/ollama/ollama/template"
)

type job struct {
	Modelfile     string          `json:"modelfile"`
	Templates     []string        `json:"templates"`
	Conversations [][]api.Message `json:"conversations"`
}

type modelfileAnswer struct {
	Commands []parser.Command   `json:"commands,omitempty"`
	String   string             `json:"string,omitempty"`
	Request  *api.CreateRequest `json:"request,omitempty"`
	Error    string             `json:"error,omitempty"`
}

type rendered struct {
	Text  *string `json:"text,omitempty"`
	Error string  `json:"error,omitempty"`
}

func render(source string, conversations [][]api.Message) []rendered {
	t, err := template.Parse(source)
	out := make([]rendered, len(conversations))
	for i, messages := range conversations {
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		var b bytes.Buffer
		// Execute merges consecutive messages of one role in place: give it a copy.
		copied := append([]api.Message(nil), messages...)
		if err := t.Execute(&b, template.Values{Messages: copied}); err != nil {
			out[i].Error = err.Error()
			continue
		}
		text := b.String()
		out[i].Text = &text
	}
	return out
}

func main() {
	var j job
	if err := json.NewDecoder(os.Stdin).Decode(&j); err != nil {
		fmt.Fprintln(os.Stderr, "ollama_check: the job on stdin is not JSON:", err)
		os.Exit(2)
	}
	var answer struct {
		Modelfile *modelfileAnswer `json:"modelfile,omitempty"`
		Renders   [][]rendered     `json:"renders"`
	}
	templates := j.Templates
	if j.Modelfile != "" {
		mf, err := parser.ParseFile(strings.NewReader(j.Modelfile))
		if err != nil {
			answer.Modelfile = &modelfileAnswer{Error: err.Error()}
		} else {
			req, err := mf.CreateRequest("")
			a := &modelfileAnswer{Commands: mf.Commands, String: mf.String(), Request: req}
			if err != nil {
				a.Error = err.Error()
			}
			answer.Modelfile = a
			if req != nil && req.Template != "" {
				templates = append([]string{req.Template}, templates...)
			}
		}
	}
	for _, source := range templates {
		answer.Renders = append(answer.Renders, render(source, j.Conversations))
	}
	if err := json.NewEncoder(os.Stdout).Encode(answer); err != nil {
		fmt.Fprintln(os.Stderr, "ollama_check:", err)
		os.Exit(2)
	}
}
