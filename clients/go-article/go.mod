module github.com/example/go-article

go 1.19
