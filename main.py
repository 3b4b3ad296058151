from viewfinder.app import main
raise SystemExit(main())
