process JUNCTIONS_MERGE {
    tag "${meta.id}"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/splamflow/splamflow:0.1.0'

    input:
    // the scored chunks in their original order: the caller sorts them by chunk index, and staging
    // names them by list position, 1-based and zero-padded (part_0000001.bed, part_0000002.bed, ...)
    tuple val(meta), path(chunks, stageAs: 'part_???????.bed')

    output:
    tuple val(meta), path("*.scores.bed"), emit: bed
    tuple val("${task.process}"), val('coreutils'), eval("cat --version | sed -n '1s/^.* //p'"), emit: versions_coreutils, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def prefix = task.ext.prefix ?: "${meta.id}"
    def n_chunks = [chunks].flatten().size()
    // concatenate by explicit index, 1..n: a missing part fails the task instead of being skipped
    """
    for i in \$(seq 1 ${n_chunks}); do
        cat "part_\$(printf '%07d' "\$i").bed"
    done > ${prefix}.scores.bed
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.scores.bed
    """
}
