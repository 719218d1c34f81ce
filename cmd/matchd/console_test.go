package main

import (
	"strings"
	"testing"
)

// TestConsoleSignInAndSearch signs in through the form, searches in Chinese
// and English, and signs out.
func TestConsoleSignInAndSearch(t *testing.T) {
	env := newConsoleEnv(t)
	b := newBrowser(t, env, 1280, 900)

	// A wrong key: the form again with a message.
	b.open("/console/login")
	b.typeInto("#api_key", "lm_wrong")
	b.click("#login-submit")
	b.waitFor("#login-error")
	if got := b.text("#login-error"); got == "" {
		t.Fatal("no message for a wrong key")
	}

	b.signIn(env.keys["mcn"])
	b.screenshot("home-mcn")
	b.open("/console/search?q=" + "脐橙")
	if !strings.Contains(b.text("#results"), "脐橙") {
		t.Fatalf("search 脐橙: %s", b.text("#results"))
	}
	if n := b.count("#results em"); n == 0 {
		t.Errorf("no highlighted words for 脐橙")
	}
	b.screenshot("search")
	b.open("/console/search?q=kiwi")
	if res := b.text("#results"); !strings.Contains(res, "猕猴桃") {
		t.Fatalf("search kiwi found no 猕猴桃: %s", res)
	}
	b.signOut()
}
