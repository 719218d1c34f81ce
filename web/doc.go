// Package web is livematch's web console: server-rendered html/template
// pages for the staff who use the service every day (MCN product selection,
// cooperative clerks, trade firms' coordinators, the operator), in Chinese
// by default and in English.
//
// # Design principles
//
//   - The console is a thin client of the JSON API, called in process with
//     the signed-in org's credential (api.WithCredential): validation,
//     authorization, rate limits and business rules exist once, in the API
//     and the engine, and the console shows the API's own messages next to
//     the fields they name.
//   - Forms work without JavaScript; htmx (vendored under assets/ with its
//     licence) enhances them: re-ranking while weights move, quick stock
//     edits, import progress. Every byte is served by matchd.
//   - A session is a random token in an HttpOnly, SameSite=Strict cookie;
//     the database keeps only a one-way id of it and the key's one-way
//     credential, never the key. Rotating the key ends the session.
//   - Every state-changing request passes Go's cross-origin protection and
//     carries the session's CSRF token. The Content-Security-Policy allows
//     no inline script or style and no other origin.
//   - Pages share their steps and their markup: edit.go reads lists and
//     forms and answers the API's writes (success, 400, 412) for every
//     page, and its editor is the whole flow of a page that edits one API
//     object with one form; the partials templates/_*.html hold the field
//     rows, language rows, weight sliders, page heads and the matches
//     block, which take several values through dict (funcs.go).
//   - Texts live in a message catalogue (messages/*.json, both languages per
//     key, served through golang.org/x/text/message); a test walks it.
package web
