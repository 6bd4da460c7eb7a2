from mm_mirror.cli import main

raise SystemExit(main())
